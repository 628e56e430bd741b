"""Suites and cases: the public names of the case model and `load_suite`.

The model lives in `editbench.suites.model` and each format's reader in `editbench.suites`;
this module is where the rest of editbench imports them from.
"""

from __future__ import annotations

from editbench.suites import FORMATS, load_suite
from editbench.suites.b64 import KNOWN_CATEGORIES
from editbench.suites.model import (
    EXTRA_FIELDS,
    LANGUAGES,
    Case,
    Category,
    ImageRef,
    Suite,
    case_seed,
    marker_name,
)

__all__ = [
    "EXTRA_FIELDS",
    "FORMATS",
    "KNOWN_CATEGORIES",
    "LANGUAGES",
    "Case",
    "Category",
    "ImageRef",
    "Suite",
    "case_seed",
    "load_suite",
    "marker_name",
]
