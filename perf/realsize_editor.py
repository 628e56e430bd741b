"""GPU mode: the diffusers editor with random-weight Qwen-Image-Edit components at their real sizes.

A pytest plugin (`-p perf.realsize_editor`) that registers the `perf-realsize` editor
backend in every process. The editor is the real `DiffusersEditor` (same edit path, same timing
of the pipeline call), except that after loading the tiny pipeline (for its tokenizer, processor
and scheduler) it rebuilds the pipeline with a 20.4 B-parameter QwenImage transformer, a
Qwen2.5-VL-7B text encoder and the real VAE, created directly on the GPU in bf16 from their
published config values. Random weights cost the same as trained ones: same shapes, same kernels.
"""

from __future__ import annotations

import os
import sys
import time

from editbench import editors
from editbench.editors.diffusers_backend import DiffusersEditor

# stderr as it was before pytest's capture: progress lines reach the terminal from a worker too
_PROGRESS = os.fdopen(os.dup(2), "w", buffering=1)

# Qwen-Image(-Edit) transformer: 60 dual-stream blocks, 24 heads x 128, text width 3584
TRANSFORMER = {
    "patch_size": 2,
    "in_channels": 64,
    "out_channels": 16,
    "num_layers": 60,
    "attention_head_dim": 128,
    "num_attention_heads": 24,
    "joint_attention_dim": 3584,
    "guidance_embeds": False,
    "axes_dims_rope": (16, 56, 56),
}
# Qwen2.5-VL-7B-Instruct (the text encoder of Qwen-Image-Edit)
TEXT = {
    "vocab_size": 152064,
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "max_position_embeddings": 128000,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 1000000.0,
        "mrope_section": [16, 24, 24],
    },
}
VISION = {
    "depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "out_hidden_size": 3584,
    "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31],
}
PROCESSOR_MAX_PIXELS = 12845056  # the published processor's max_pixels
# $EDITBENCH_PERF_REALSIZE_SHRINK=1: the same wiring at toy widths on CPU, to check it without a GPU
SHRINK_AREA = 64 * 64  # the condition image's area there (the real pipeline: 1024²)
SHRINK = {
    "transformer": {"num_layers": 1, "num_attention_heads": 1, "joint_attention_dim": 128},
    "text": {
        "hidden_size": 128,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
    },
    "vision": {
        "depth": 1,
        "hidden_size": 32,
        "intermediate_size": 32,
        "num_heads": 2,
        "out_hidden_size": 128,
        "fullatt_block_indexes": [0],
    },
    "vae": {"base_dim": 4, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 0},
}


def sized(name: str, values: dict) -> dict:
    """Real sizes, or under $EDITBENCH_PERF_REALSIZE_SHRINK toy ones that keep the tiny model's
    own vocabulary (a 152k-token head in float32 would be most of a CPU run's time)."""
    if not os.environ.get("EDITBENCH_PERF_REALSIZE_SHRINK"):
        return dict(values)
    return {k: v for k, v in values.items() if k != "vocab_size"} | SHRINK[name]


def progress(text: str) -> None:
    _PROGRESS.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
    _PROGRESS.flush()


class RealSizeEditor(DiffusersEditor):
    name = "perf-realsize"

    def _describe(self) -> dict:
        return {**super()._describe(), "realsize": "random weights at real sizes"}

    def pipeline(self):
        if self._pipe is None:
            start = time.perf_counter()
            tiny = super().pipeline()
            self._pipe = (
                None  # a failed build must fail every case, never fall back to the tiny one
            )
            self._pipe = build_pipeline(tiny, self.device)
            self.load_s = time.perf_counter() - start
            progress(f"editor: real-size pipeline ready in {self.load_s:.1f} s")
        return self._pipe


def build_pipeline(tiny, device: str):
    """The tiny pipeline's tokenizer, processor and scheduler with real-size random components."""
    import torch
    from diffusers import AutoencoderKLQwenImage, QwenImageTransformer2DModel
    from transformers import Qwen2_5_VLForConditionalGeneration

    config = resized(tiny.text_encoder.config, sized("text", TEXT), sized("vision", VISION))
    with on_device(device):
        progress("editor: building the QwenImage transformer (random, bf16, on the GPU)")
        transformer = QwenImageTransformer2DModel(**sized("transformer", TRANSFORMER)).eval()
        progress(
            f"editor: transformer {count(transformer) / 1e9:.2f} B parameters; building the text encoder"
        )
        text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
        progress(
            f"editor: text encoder {count(text_encoder) / 1e9:.2f} B parameters; building the VAE"
        )
        vae = AutoencoderKLQwenImage(**sized("vae", {})).eval()
    processor = tiny.processor
    processor.image_processor.size = {
        **dict(processor.image_processor.size),
        "longest_edge": PROCESSOR_MAX_PIXELS,
    }
    processor.image_processor.max_pixels = PROCESSOR_MAX_PIXELS
    pipe = type(tiny)(
        scheduler=tiny.scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tiny.tokenizer,
        processor=processor,
        transformer=transformer,
    )
    pipe.set_progress_bar_config(disable=True)
    if os.environ.get("EDITBENCH_PERF_REALSIZE_SHRINK"):
        shrink_condition_area(type(tiny).__module__)
    if device.startswith("cuda"):
        progress(f"editor: {torch.cuda.memory_allocated() / 2**30:.1f} GiB on the GPU")
    return pipe


def resized(config, text: dict, vision: dict):
    """The tiny config (its special token ids kept) with real widths; per-layer lists rebuilt."""
    data = config.to_dict()
    data["text_config"].update(text)
    data["text_config"].pop("layer_types", None)
    data["vision_config"].update(vision)
    return type(config).from_dict(data)


def shrink_condition_area(module_name: str, area: int = SHRINK_AREA) -> None:
    """$EDITBENCH_PERF_REALSIZE_SHRINK: the edit pipeline resizes its condition image to about
    1024² whatever the output size; on a CPU that VAE pass is most of a toy edit's time."""
    module = sys.modules[module_name]
    full = getattr(module, "calculate_dimensions", None)
    if full is None or getattr(full, "shrunk", False):
        return

    def calculate_dimensions(target_area, ratio):
        return full(min(target_area, area), ratio)

    calculate_dimensions.shrunk = True
    module.calculate_dimensions = calculate_dimensions


class on_device:
    """Create modules directly on `device` in bf16 (CUDA) or fp32 (CPU): no CPU copy of the weights."""

    def __init__(self, device: str) -> None:
        import torch

        self.torch, self.device = torch, torch.device(device)
        self.dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32

    def __enter__(self):
        self.saved = self.torch.get_default_dtype()
        self.torch.set_default_dtype(self.dtype)
        self.device.__enter__()
        return self

    def __exit__(self, *exc):
        self.device.__exit__(*exc)
        self.torch.set_default_dtype(self.saved)


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


editors.register("perf-realsize", RealSizeEditor)
if "pytest" not in sys.modules:  # pragma: no cover - imported only as a plugin
    progress("note: perf.realsize_editor is a pytest plugin (-p perf.realsize_editor)")
