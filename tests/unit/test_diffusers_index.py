"""diffusers' files, read unimported, say what the imported library says.

- the pipeline names read from `_import_structure` are exactly the top-level names ending in
  `Pipeline` that the imported diffusers has;
- each pipeline's `__call__` parameters (which decide the edit cache key and `editor.kwargs`'
  check) are those `inspect.signature` gives, for every pipeline class this environment can
  import (a placeholder for a missing dependency has no real signature to compare);
- what cannot be read is None (the caller then imports diffusers), never a guess.
"""

from __future__ import annotations

import inspect

import pytest

from editbench.editors import diffusers_index

diffusers = pytest.importorskip("diffusers")

EDITORS = (
    "QwenImageEditPipeline",
    "QwenImageEditPlusPipeline",
    "FluxKontextPipeline",
    "StableDiffusionInstructPix2PixPipeline",
)


def imported(name: str):
    """The library's class, or None where importing it fails (a dependency missing or too old)."""
    try:
        cls = getattr(diffusers, name)
    except Exception:  # noqa: BLE001 - diffusers raises RuntimeError for a module it cannot import
        return None
    real = isinstance(cls, type) and not cls.__module__.startswith("diffusers.utils.dummy_")
    return cls if real else None


def test_pipeline_names_are_the_imported_librarys():
    library = {n for n in dir(diffusers) if n.endswith("Pipeline")}
    assert diffusers_index.pipeline_names() == library


@pytest.mark.parametrize("name", EDITORS)
def test_an_editors_call_parameters_are_the_imported_classs(name):
    params = inspect.signature(getattr(diffusers, name).__call__).parameters
    found = diffusers_index.call_signature(name)
    assert found is not None and found.names == set(params)
    assert found.open_ended == any(p.kind is p.VAR_KEYWORD for p in params.values())


def test_every_readable_pipelines_call_parameters_are_the_imported_classs():
    compared, differ = 0, []
    for name in sorted(diffusers_index.pipeline_names()):
        found, cls = diffusers_index.call_signature(name), imported(name)
        if found is None or cls is None:
            continue
        compared += 1
        if found.names != set(inspect.signature(cls.__call__).parameters):
            differ.append(name)
    assert compared > 100 and differ == []


def test_what_cannot_be_read_is_none():
    assert diffusers_index.call_signature("NoSuchPipeline") is None
    assert diffusers_index.call_signature("DiffusionPipeline") is None  # it has no __call__
