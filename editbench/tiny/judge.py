"""A tiny random Qwen3-VL judge checkpoint, built locally and reproducibly.

The real `Qwen3VLForConditionalGeneration` architecture at toy size (2 text layers, hidden 32,
a 2-block vision tower with 16-pixel patches), the project's offline Qwen2-style tokenizer with
a Qwen chat template, and a Qwen2-VL image processor config. Written with `save_pretrained`, so
the judge loads it with the same `from_pretrained` calls a real checkpoint uses. Its scores
measure the pipeline, not a model.
"""

from __future__ import annotations

import json
from pathlib import Path

from editbench.tiny.tokenizer import build_tokenizer, vocab_size

# Kept small: a 256x256 image is 64 visual tokens after the 2x2 merge.
MAX_PIXELS = 256 * 256
MIN_PIXELS = 32 * 32


def build_tiny_judge(folder: Path, seed: int = 0) -> None:
    """Write the checkpoint into `folder`: the same bytes for the same seed."""
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    folder = Path(folder)
    ids = build_tokenizer(folder)
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(_config(Qwen3VLConfig, ids)).eval()
    model.save_pretrained(folder, safe_serialization=True)
    _write_image_processor(folder)
    _write_generation_config(folder, ids)


def _config(config_class, ids: dict[str, int]):
    text = {
        "vocab_size": vocab_size(),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 8,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "mrope_section": [2, 1, 1],
            "mrope_interleaved": True,
        },
        "pad_token_id": ids["<|endoftext|>"],
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
    }
    vision = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": 32,
        "num_position_embeddings": 256,
        "deepstack_visual_indexes": [1],
    }
    return config_class(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


def _write_image_processor(folder: Path) -> None:
    """The image processor config a Qwen3-VL checkpoint ships (no video processor: image-only)."""
    config = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "do_resize": True,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "do_convert_rgb": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "resample": 3,
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "size": {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS},
    }
    (folder / "preprocessor_config.json").write_text(
        json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _write_generation_config(folder: Path, ids: dict[str, int]) -> None:
    config = {
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]],
        "pad_token_id": ids["<|endoftext|>"],
        "do_sample": False,
    }
    (folder / "generation_config.json").write_text(
        json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
