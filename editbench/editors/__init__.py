"""Editors: turn (case, source images, instruction, seed) into an edited image.

Backends register under a short name and are imported lazily, so the `identity` baseline never
imports torch. `check()` validates a config at startup, before any model loads; `create()`
loads the backend once per worker.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from editbench.errors import ConfigError

if TYPE_CHECKING:
    from PIL import Image

    from editbench.cases import Case
    from editbench.config import Config


@dataclass(frozen=True)
class EditRequest:
    """One edit: `image`/`source_png` are the first input; `images`/`source_pngs` all of them."""

    case: Case
    image: Image.Image
    instruction: str
    seed: int
    source_png: bytes
    images: tuple[Image.Image, ...] = ()
    source_pngs: tuple[bytes, ...] = ()

    @property
    def inputs(self) -> tuple[Image.Image, ...]:
        """Every input image, in the order the instruction refers to them."""
        return self.images or (self.image,)


class Editor(Protocol):
    name: str
    # How many input images one edit takes (None: any number). The runner fails a case with more
    # inputs than this with status case-error before calling `edit`: never a silent first image.
    max_images: int | None

    def describe(self) -> dict[str, Any]:
        """Everything that determines an edit besides the case: model id, revision, parameters.

        Builtin types only; it keys the edit cache and goes into run.json.
        """

    def edit(self, request: EditRequest) -> Image.Image:
        """Return the edited image; raise to fail this case only."""


# name -> "module:attribute" of a factory(config, device) -> Editor, imported on first use
_BACKENDS: dict[str, str | Callable] = {
    "identity": "editbench.editors.identity:IdentityEditor",
    "replay": "editbench.editors.replay:ReplayEditor",
    "diffusers": "editbench.editors.diffusers_backend:DiffusersEditor",
}


def register(name: str, factory: str | Callable) -> None:
    """Add a backend: a factory or a "module:attribute" path to one (tests register fault injectors)."""
    _BACKENDS[name] = factory


def known() -> list[str]:
    return sorted(_BACKENDS)


def factory(name: str) -> Any:
    if name not in _BACKENDS:
        close = difflib.get_close_matches(name, known(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"editor.backend: unknown backend {name!r}{hint} (known: {', '.join(known())})"
        )
    target = _BACKENDS[name]
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
    return target


def check(config: Config) -> None:
    """Validate the editor section at startup without loading a model."""
    backend = factory(config.editor.backend)
    validate = getattr(backend, "check", None)
    if validate is not None:
        validate(config)


def create(config: Config, device: str) -> Editor:
    """Load the configured editor (once per worker)."""
    return factory(config.editor.backend)(config, device)
