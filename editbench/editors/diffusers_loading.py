"""Loading a diffusers pipeline: `from_pretrained` with Qwen-VL processors built image-only.

The only part of the `diffusers` editor that imports torch, diffusers and transformers (inside
its functions: `diffusers_backend.DiffusersEditor.pipeline` calls `load` on the first edit the
cache cannot answer). A Qwen-VL processor's video processor needs torchvision, which the editor
environment may lack; the editor sends images only, so each such processor component is built
from its image processor and tokenizer alone and handed to `from_pretrained` as an override.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load(cls, source: dict[str, Any], dtype: str, device: str, settings):
    """Pipeline class `cls` from `source` (a folder's path, else the hub id at editor.revision),
    in `dtype` on `device`, its progress bars off."""
    import diffusers
    import torch
    import transformers

    diffusers.utils.logging.disable_progress_bar()  # no loading bars inside workers
    transformers.utils.logging.disable_progress_bar()
    where = source["path"] or source["model"]
    revision = None if source["path"] else settings.revision
    overrides = _image_only_processors(where, revision, settings.max_pixels)
    pipe = cls.from_pretrained(
        where, revision=revision, **_dtype_kwarg(getattr(torch, dtype)), **overrides
    )
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _dtype_kwarg(dtype) -> dict[str, Any]:
    """`dtype=` where diffusers has renamed it, `torch_dtype=` before."""
    from diffusers.utils import deprecation_utils

    renamed = hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE")
    return {"dtype": dtype} if renamed else {"torch_dtype": dtype}


def _image_only_processors(
    where: str, revision: str | None, max_pixels: int | None
) -> dict[str, Any]:
    """Qwen-VL processor components loaded without their video processor (no torchvision needed)."""
    index = _model_index(where, revision)
    overrides = {}
    for component, spec in index.items():
        if not (isinstance(spec, list) and len(spec) == 2 and spec[0] == "transformers"):
            continue
        if spec[1] and spec[1].endswith("VLProcessor"):
            overrides[component] = _image_only_processor(
                spec[1], where, component, revision, max_pixels
            )
    return overrides


def _model_index(where: str, revision: str | None) -> dict[str, Any]:
    local = Path(where) / "model_index.json"
    if local.is_file():
        return json.loads(local.read_text(encoding="utf-8"))
    from huggingface_hub import hf_hub_download

    return json.loads(
        Path(hf_hub_download(where, "model_index.json", revision=revision)).read_text()
    )


def _image_only_processor(
    class_name: str, where: str, subfolder: str, revision: str | None, max_pixels: int | None
):
    import transformers
    from transformers import AutoImageProcessor, AutoTokenizer

    base = getattr(transformers, class_name)
    image_processor = AutoImageProcessor.from_pretrained(
        where, subfolder=subfolder, revision=revision
    )
    if max_pixels:
        image_processor.size = {**dict(image_processor.size), "longest_edge": max_pixels}
        image_processor.max_pixels = max_pixels
    if int(transformers.__version__.split(".")[0]) >= 5:
        # transformers 5 reads the limits from `size`; passing min/max_pixels again only warns
        image_processor.min_pixels = image_processor.max_pixels = None
    tokenizer = AutoTokenizer.from_pretrained(where, subfolder=subfolder, revision=revision)
    return _image_only_class(base)(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=getattr(tokenizer, "chat_template", None),
    )


def _image_only_class(base: type) -> type:
    """A subclass of a Qwen-VL processor whose only parts are the image processor and tokenizer."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        base.__init__(
            self,
            image_processor=image_processor,
            tokenizer=tokenizer,
            video_processor=None,
            chat_template=chat_template,
        )

    # transformers 5 reads the parts from __init__'s signature, 4.x from `attributes`
    return type(
        f"ImageOnly{base.__name__}",
        (base,),
        {"__init__": __init__, "attributes": ["image_processor", "tokenizer"]},
    )
