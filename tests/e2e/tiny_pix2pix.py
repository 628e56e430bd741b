"""A tiny random StableDiffusionInstructPix2PixPipeline, built offline: `python tiny_pix2pix.py DIR`.

Run by the `editor-legacy` interpreter (transformers 4.57, diffusers 0.39), so its components are
written by the versions that load them: the tiny Qwen-Image-Edit is built for transformers 5
and its text encoder's config does not load on 4.x. Sizes follow diffusers' own pipeline tests
(UNet and VAE of two blocks at width 32/64, a 5-layer CLIP text encoder at width 32); the CLIP
tokenizer is byte-level BPE with no merges, its vocabulary written here. The same folder is
written for the same seed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def clip_tokenizer(folder: Path):
    """A CLIP tokenizer with every byte as a symbol (and as a word end), no merges."""
    from transformers import CLIPTokenizer
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(bytes_to_unicode().values())
    tokens = ["<|startoftext|>", "<|endoftext|>", *symbols, *(s + "</w>" for s in symbols)]
    (folder / "vocab.json").write_text(
        json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8"
    )
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77
    ), len(tokens)


def build(folder: Path, seed: int = 0) -> None:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionInstructPix2PixPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    with tempfile.TemporaryDirectory() as scratch:
        tokenizer, vocab = clip_tokenizer(Path(scratch))
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=8,  # the noisy latents and the source image's latents
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=5,
            vocab_size=vocab,
        )
    )
    pipe = StableDiffusionInstructPix2PixPipeline(
        unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
