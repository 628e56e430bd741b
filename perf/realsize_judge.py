"""GPU mode, judge side: the qwen-vl backend with a random-weight Qwen3-VL-8B at its real size.

Loaded in the judge interpreter by path (`judge.backend: .../realsize_judge.py:RealSizeJudge`), so it
imports only the standard library at module level and loads the checkout's
`editbench/judging/remote.py` by path. It loads the tiny judge (for its tokenizer, image processor and chat
template), then swaps in a Qwen3-VL-8B built directly on the GPU in bf16 from the published config
values. Each scoring call's seconds go to $EDITBENCH_PERF_JUDGE_STATS, one JSON line per request.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

_SERVER = Path(__file__).resolve().parents[1] / "editbench" / "judging" / "remote.py"
_spec = importlib.util.spec_from_file_location("editbench_realsize_server", _SERVER)
server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server)

# Qwen3-VL-8B-Instruct
TEXT = {
    "vocab_size": 151936,
    "hidden_size": 4096,
    "intermediate_size": 12288,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 262144,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 5000000.0,
        "mrope_section": [24, 20, 20],
        "mrope_interleaved": True,
    },
}
VISION = {
    "depth": 27,
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_heads": 16,
    "out_hidden_size": 4096,
    "num_position_embeddings": 2304,
    "deepstack_visual_indexes": [8, 16, 24],
    "hidden_act": "gelu_pytorch_tanh",
}

# $EDITBENCH_PERF_REALSIZE_SHRINK=1: the same wiring at toy widths on CPU, to check it without a GPU
SHRINK = {
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
        "deepstack_visual_indexes": [0],
    },
}


def sized(name: str, values: dict) -> dict:
    """Real sizes, or under $EDITBENCH_PERF_REALSIZE_SHRINK toy ones that keep the tiny model's
    own vocabulary (a 152k-token head in float32 would be most of a CPU run's time)."""
    if not os.environ.get("EDITBENCH_PERF_REALSIZE_SHRINK"):
        return dict(values)
    return {k: v for k, v in values.items() if k != "vocab_size"} | SHRINK[name]


class RealSizeJudge(server.QwenVLBackend):
    def __init__(self, options: dict) -> None:
        super().__init__(options)  # the tiny checkpoint: tokenizer, image processor, chat template
        torch = self.torch
        from transformers import Qwen3VLForConditionalGeneration

        data = self.model.config.to_dict()  # keeps the tiny tokenizer's special token ids
        data["text_config"].update(sized("text", TEXT))
        data["text_config"].pop(
            "layer_types", None
        )  # per-layer lists are rebuilt for the real depth
        data["vision_config"].update(sized("vision", VISION))
        config = type(self.model.config).from_dict(data)
        start = time.perf_counter()
        saved = torch.get_default_dtype()
        torch.set_default_dtype(self.dtype)
        try:
            with torch.device(self.device):
                self.model = Qwen3VLForConditionalGeneration(config).eval()
        finally:
            torch.set_default_dtype(saved)
        self.params = sum(p.numel() for p in self.model.parameters())
        self.build_s = time.perf_counter() - start
        self.stats = os.environ.get("EDITBENCH_PERF_JUDGE_STATS")
        self.seen: set = set()
        self.inputs_s, self.shape = 0.0, None

    def info(self) -> dict:
        return {
            **super().info(),
            "realsize": "random Qwen3-VL-8B",
            "parameters": self.params,
            "build_s": self.build_s,
        }

    def _inputs(self, items: list, pad_to: int | None = None) -> dict:
        start = time.perf_counter()
        inputs = super()._inputs(items, pad_to)
        self.inputs_s += time.perf_counter() - start
        self.shape = [int(n) for n in inputs["input_ids"].shape]
        return inputs

    def logit(self, items: list) -> list:
        return self._timed("logit", items, lambda: super(RealSizeJudge, self).logit(items))

    def generate(self, items: list, decoding: dict) -> list:
        return self._timed(
            "generate", items, lambda: super(RealSizeJudge, self).generate(items, decoding)
        )

    def _timed(self, method: str, items: list, call) -> list:
        """One scoring call, split into the CPU's image preprocessing and the rest (the GPU's
        work, synchronised), with its input shape, whether that shape is new to this process, the
        SM clock and the memory the caching allocator holds: what tells a spike's cause."""
        self.inputs_s, self.shape = 0.0, None
        clock = _clock(self.torch)
        start = time.perf_counter()
        out = call()
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        new = tuple(self.shape or ()) not in self.seen
        self.seen.add(tuple(self.shape or ()))
        self._record(
            method,
            len(items),
            seconds,
            inputs_s=self.inputs_s,
            shape=self.shape,
            new_shape=new,
            sm_clock_mhz_before=clock,
            reserved_gib=self._reserved(),
        )
        return out

    def _reserved(self) -> float | None:
        if not self.device.startswith("cuda"):
            return None
        return self.torch.cuda.memory_reserved() / 2**30

    def _record(self, method: str, items: int, seconds: float, **split) -> None:
        if self.stats:
            with open(self.stats, "a", encoding="utf-8") as handle:
                line = {"method": method, "items": items, "seconds": seconds, **split}
                handle.write(json.dumps(line) + "\n")


def _clock(torch) -> int | None:
    """The GPU's current SM clock (MHz), where torch can read it (through NVML)."""
    try:
        return int(torch.cuda.clock_rate()) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - no NVML: the figure is left out
        return None
