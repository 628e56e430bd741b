"""A tiny random Qwen-Image-Edit pipeline folder, built locally and reproducibly.

The real components of `QwenImageEditPipeline` at toy size: a Qwen2.5-VL text encoder (2 text
layers, hidden 32, a 2-block vision tower), a QwenImage transformer (2 layers, one 8-wide head),
a QwenImage VAE that downsamples 16x with 2 channels, the flow-matching scheduler, the
project's offline tokenizer and a Qwen2-VL image processor capped at 65,536 pixels. Written with
`save_pretrained` in the layout of the published checkpoints (model_index.json, one folder per
component, processor/ with image processor and tokenizer), so the diffusers backend loads it with
the same calls as a real one. The pipeline always works at about one megapixel, so the VAE and
the transformer's attention are kept as small as the architecture allows: one edit (2 steps,
true CFG) costs about 2.5 CPU-seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from editbench.tiny.tokenizer import build_tokenizer, vocab_size

PROCESSOR_MAX_PIXELS = 256 * 256
PROCESSOR_MIN_PIXELS = 56 * 56
TEXT_HIDDEN = 32
LATENT_CHANNELS = 4


def build_tiny_editor(folder: Path, seed: int = 0) -> None:
    """Write the pipeline folder: the same bytes for the same seed and library versions."""
    import torch
    from diffusers import QwenImageEditPipeline

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ids = build_tokenizer(folder / "tokenizer")
    torch.manual_seed(seed)
    text_encoder = _text_encoder(ids)
    torch.manual_seed(seed)
    vae = _vae()
    torch.manual_seed(seed)
    transformer = _transformer()
    pipe = QwenImageEditPipeline(
        scheduler=_scheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=None,
        processor=None,
        transformer=transformer,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    _write_processor(folder)
    _write_model_index(folder)


def _text_encoder(ids: dict[str, int]):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    text = {
        "vocab_size": vocab_size(),
        "hidden_size": TEXT_HIDDEN,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "mrope_section": [2, 3, 3],
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
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": TEXT_HIDDEN,
        "window_size": 56,
        "fullatt_block_indexes": [1],
    }
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    return Qwen2_5_VLForConditionalGeneration(config).eval()


def _vae():
    from diffusers import AutoencoderKLQwenImage

    # Four downsampling stages (16x: 1,024 packed tokens per image at 1 MP instead of 4,096), 2 channels,
    # no extra residual blocks: the VAE's full-resolution convolutions and the transformer's
    # attention over noise + source tokens decide an edit's time on a CPU.
    return AutoencoderKLQwenImage(
        base_dim=2,
        z_dim=LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1, 1],
        num_res_blocks=0,
        temperal_downsample=[False, True, True, True],
        latents_mean=[0.0] * LATENT_CHANNELS,
        latents_std=[1.0] * LATENT_CHANNELS,
    ).eval()


def _transformer():
    from diffusers import QwenImageTransformer2DModel

    # One 8-wide head over ~2,100 tokens (noise + source latents + text).
    return QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=LATENT_CHANNELS * 4,
        out_channels=LATENT_CHANNELS,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=1,
        joint_attention_dim=TEXT_HIDDEN,
        axes_dims_rope=(2, 2, 4),
    ).eval()


def _scheduler():
    from diffusers import FlowMatchEulerDiscreteScheduler

    return FlowMatchEulerDiscreteScheduler(
        num_train_timesteps=1000,
        shift=1.0,
        use_dynamic_shifting=True,
        base_shift=0.5,
        max_shift=0.9,
        base_image_seq_len=256,
        max_image_seq_len=8192,
        shift_terminal=0.02,
        time_shift_type="exponential",
    )


def _write_processor(folder: Path) -> None:
    """processor/: the Qwen2-VL image processor config and the tokenizer, as the real checkpoint has."""
    target = folder / "processor"
    target.mkdir(exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(folder / "tokenizer" / name, target / name)
    config = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2VLProcessor",
        "do_resize": True,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "do_convert_rgb": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "size": {"shortest_edge": PROCESSOR_MIN_PIXELS, "longest_edge": PROCESSOR_MAX_PIXELS},
        "min_pixels": PROCESSOR_MIN_PIXELS,
        "max_pixels": PROCESSOR_MAX_PIXELS,
    }
    _write_json(target / "preprocessor_config.json", config)


def _write_model_index(folder: Path) -> None:
    """Name the tokenizer and processor classes the published checkpoints name."""
    path = folder / "model_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    index["tokenizer"] = ["transformers", "Qwen2Tokenizer"]
    index["processor"] = ["transformers", "Qwen2VLProcessor"]
    _write_json(path, index)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
