"""The `diffusers` editor: any diffusers pipeline class that takes an image and a prompt.

`model` is a hub id, a local folder or `tiny:<name>`. The pipeline loads lazily, on the first
edit the cache cannot answer, so a fully cached rerun never loads it; until then neither torch nor
diffusers is imported: the start-up checks and the edit cache key (the device, the arguments the
pipeline's `__call__` takes) come from diffusers' installed files (`diffusers_index`) and the
visible GPUs, and the first load checks that torch agrees. The load itself (`diffusers_loading`)
builds Qwen-VL processors image-only (image processor + tokenizer), since their video processor
needs torchvision. Each edit is seeded from the case's own seed with a CPU generator, so the same
case gives the same pixels whatever worker runs it and whatever else runs with it.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import json
import os
import re
import time
from pathlib import Path
from typing import Any, NoReturn

from editbench.cache import folder_fingerprint
from editbench.config import Config
from editbench.devices import visible_gpus
from editbench.editors import EditRequest, diffusers_index
from editbench.editors.diffusers_index import CallSignature
from editbench.editors.diffusers_loading import load
from editbench.errors import ConfigError
from editbench.tiny import check_name, ensure_tiny, tiny_name

TINY_EDITORS = ("qwen-image-edit",)
# Pipelines whose `image` argument takes several input images of one edit (not a batch).
# Any other pipeline takes one: the runner fails a case with several inputs as case-error.
MULTI_IMAGE_PIPELINES = ("QwenImageEditPlusPipeline",)
_SIZE = re.compile(r"^(\d+)x(\d+)$")
_DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


class DiffusersEditor:
    name = "diffusers"

    def __init__(self, config: Config, device: str) -> None:
        self.settings = config.editor
        self.source = _model_source(config)
        self.max_images = None if self.settings.pipeline in MULTI_IMAGE_PIPELINES else 1
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(self.settings.dtype, self.device)
        self.call_kwargs = _call_kwargs(_call_signature(self.settings.pipeline), self.settings)
        self.load_s: float | None = None
        self.stats_path = os.environ.get("EDITBENCH_EDITOR_STATS")
        self._pipe = None
        self._description = self._describe()

    @staticmethod
    def check(config: Config) -> None:
        """Startup checks, before any worker loads: model, pipeline class, size, pass-through kwargs."""
        editor = config.editor
        if not editor.model:
            raise ConfigError(
                f"{config.source}: editor.model: the diffusers backend needs a model: "
                "a hub id, a local pipeline folder or tiny:qwen-image-edit"
            )
        _check_pipeline(editor.pipeline)
        _parse_size(editor.size)
        _call_kwargs(_call_signature(editor.pipeline), editor)
        _model_source(config)

    def describe(self) -> dict[str, Any]:
        return dict(self._description)

    def _describe(self) -> dict[str, Any]:
        description = {
            "backend": self.name,
            "pipeline": self.settings.pipeline,
            "dtype": self.dtype,
            "device": self.device,
            "max_pixels": self.settings.max_pixels,
            "size": self.settings.size,
            "call": _plain(self.call_kwargs),
        }
        description.update(model=self.source["model"], revision=self.source["revision"])
        return description

    def edit(self, request: EditRequest):
        import torch

        pipe = self.pipeline()
        kwargs = dict(self.call_kwargs)
        kwargs.update(_size_kwargs(self.settings.size, request.image))
        inputs = request.inputs
        image = list(inputs) if self.max_images is None and len(inputs) > 1 else request.image
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        try:
            with torch.inference_mode():
                result = pipe(
                    image=image,
                    prompt=request.instruction,
                    generator=generator,
                    output_type="pil",
                    **kwargs,
                )
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()  # leave the GPU usable for the next case
            raise
        self._record(request, time.perf_counter() - start)
        return result.images[0]

    def pipeline(self):
        """The loaded pipeline (loaded on first use: the first import of torch and diffusers)."""
        if self._pipe is None:
            start = time.perf_counter()
            _check_torch_device(self.device)
            self._pipe = load(
                _pipeline_class(self.settings.pipeline),
                self.source,
                self.dtype,
                self.device,
                self.settings,
            )
            self.load_s = time.perf_counter() - start
        return self._pipe

    def _record(self, request: EditRequest, seconds: float) -> None:
        """Append one line per edit to $EDITBENCH_EDITOR_STATS (the GPU check reads it)."""
        if not self.stats_path:
            return
        import torch

        stats = {
            "case": request.case.id,
            "device": self.device,
            "seconds": seconds,
            "load_s": self.load_s,
            "dtype": self.dtype,
        }
        if self.device == "cuda":
            stats["gpu"] = torch.cuda.get_device_name()
            stats["peak_bytes"] = int(torch.cuda.max_memory_allocated())
            stats["pipeline_device"] = str(self._pipe.device)
        with open(self.stats_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(stats) + "\n")


# -- configuration -------------------------------------------------------------------------------


def _check_pipeline(name: str) -> None:
    """`editor.pipeline` names a diffusers pipeline class: read from diffusers' files, unimported."""
    missing = [m for m in ("torch", "diffusers", "transformers") if not _installed(m)]
    if missing:
        raise ConfigError(
            f"editor.backend: diffusers needs torch, diffusers and transformers (not installed: "
            f"{', '.join(missing)}); install them with `pip install -e .[editor]`"
        )
    names = diffusers_index.pipeline_names()
    if names is None:  # a diffusers whose files this cannot read: ask the library itself
        _pipeline_class(name)
    elif name not in names:
        _unknown_pipeline(name, names)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _pipeline_class(name: str):
    """The class itself (this imports diffusers, and with it torch and transformers)."""
    try:
        import diffusers
    except ImportError as exc:
        raise ConfigError(
            f"editor.backend: diffusers needs torch, diffusers and transformers ({exc}); "
            "install them with `pip install -e .[editor]`"
        ) from None
    cls = getattr(diffusers, name, None)
    if isinstance(cls, type) and hasattr(cls, "from_pretrained") and name.endswith("Pipeline"):
        return cls
    _unknown_pipeline(name, [n for n in dir(diffusers) if n.endswith("Pipeline")])


def _unknown_pipeline(name: str, names) -> NoReturn:
    close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ConfigError(
        f"editor.pipeline: {name!r} is not a diffusers pipeline class{hint} "
        "(e.g. QwenImageEditPipeline, QwenImageEditPlusPipeline, FluxKontextPipeline, "
        "StableDiffusionInstructPix2PixPipeline)"
    )


def _model_source(config: Config) -> dict[str, Any]:
    """Where the weights come from: {"model", "path"} for folders, {"model", "revision"} for hub ids."""
    model = config.editor.model or ""
    name = tiny_name(model)
    if name is not None:
        check_name(name, "editor.model", TINY_EDITORS)
        folder = ensure_tiny(name)
        return {"model": model, "path": str(folder), "revision": folder_hash(folder)}
    local = config.resolve(model)
    if local.is_dir():
        if not (local / "model_index.json").is_file():
            raise ConfigError(
                f"{config.source}: editor.model: {local} has no model_index.json; "
                "point it at a diffusers pipeline folder (save_pretrained output)"
            )
        return {"model": model, "path": str(local), "revision": folder_hash(local)}
    if _looks_like_path(model):
        raise ConfigError(
            f"{config.source}: editor.model: folder {local} does not exist; fix the path "
            "(relative paths resolve against the config file's folder) or use a hub id"
        )
    return {"model": model, "path": None, "revision": _hub_revision(model, config.editor.revision)}


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~", "\\")) or model.count("/") != 1 or ":" in model


def _hub_revision(repo: str, revision: str | None) -> str:
    """The revision asked for, resolved to the cached commit when the hub is offline."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return revision or "main"
    found = try_to_load_from_cache(repo, "model_index.json", revision=revision)
    if isinstance(found, str):
        return Path(found).parent.name  # snapshots/<commit>/model_index.json
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise ConfigError(
            f"editor.model: {repo!r} is not in the local Hugging Face cache and "
            "HF_HUB_OFFLINE is set; download it first (huggingface-cli download "
            f"{repo}) or point editor.model at a local folder"
        )
    return revision or "main"


def folder_hash(folder: Path) -> str:
    """A short content hash of a checkpoint folder (the editor's revision for local folders)."""
    return folder_fingerprint(folder)[:16]


def _call_signature(name: str) -> CallSignature:
    """What the pipeline's `__call__` takes: from its source file, else from the imported class."""
    found = diffusers_index.call_signature(name)
    if found is not None:
        return found
    params = inspect.signature(_pipeline_class(name).__call__).parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return CallSignature(name, frozenset(params), open_ended)


def _call_kwargs(signature: CallSignature, settings) -> dict[str, Any]:
    """The generation parameters the pipeline's __call__ accepts (unset ones left to the pipeline)."""
    params, open_ended = signature.names, signature.open_ended
    wanted = {
        "num_inference_steps": settings.steps,
        "true_cfg_scale": settings.true_cfg_scale,
        "guidance_scale": settings.guidance_scale,
        "negative_prompt": settings.negative_prompt,
    }
    kwargs = {k: v for k, v in wanted.items() if v is not None and k in params}
    for key, value in settings.kwargs.items():
        if key not in params and not open_ended:
            close = difflib.get_close_matches(key, sorted(params), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"editor.kwargs.{key}: {signature.owner} takes no argument {key!r}{hint}"
            )
        kwargs[key] = value
    return kwargs


def _parse_size(size: str) -> tuple[int, int] | None:
    if size in ("pipeline", "source"):
        return None
    match = _SIZE.match(size)
    if not match:
        raise ConfigError(
            f"editor.size: {size!r}: expected pipeline, source or WIDTHxHEIGHT (e.g. 1024x1024)"
        )
    return int(match.group(1)), int(match.group(2))


def _size_kwargs(size: str, image) -> dict[str, int]:
    """Output size: the pipeline's own policy, the source's size, or a fixed WxH."""
    if size == "pipeline":
        return {}
    width, height = image.size if size == "source" else _parse_size(size)
    return {"width": width, "height": height}


def _pick_device(device: str) -> str:
    """cuda where this worker sees a GPU (its CUDA_VISIBLE_DEVICES, else nvidia-smi), decided
    without importing torch: the device keys the edit cache, and a cached edit needs no torch."""
    if device == "auto":
        return "cuda" if visible_gpus() else "cpu"
    if device == "cuda" and not visible_gpus():
        raise ConfigError(
            "editor.device: cuda, but this worker sees no CUDA GPU; "
            "set editor.device: auto or cpu, or check CUDA_VISIBLE_DEVICES / --eb-gpus"
        )
    return device


def _check_torch_device(device: str) -> None:
    """torch must agree with the device chosen from the visible GPUs (the edit cache's key)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            "editor.device: this worker sees a GPU, but torch finds no CUDA device (a CPU-only "
            "torch, or a driver problem); set editor.device: cpu to edit on the CPU"
        )


def _pick_dtype(dtype: str, device: str) -> str:
    if dtype == "auto":
        return "bfloat16" if device == "cuda" else "float32"
    return _DTYPES[dtype]


def _plain(value: Any) -> Any:
    """Builtin types only (it keys the cache and crosses execnet)."""
    return json.loads(json.dumps(value, default=str))
