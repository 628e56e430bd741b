"""Scoring protocols as data: each benchmark's own dimensions, scales, sub-scores and headline numbers.

`judge.protocol` chooses one: `editbench` (default: SC / PQ / O / criterion with the suite's
templates), `gedit`, `imgedit`, `kris`, `rise`, or a path to a protocol YAML file; every one is a
file (`builtin/`). Modules: `model` (the protocol as data), `loader` (reading the file), `build`
(building and checking its data), `choice` (the run's protocol, fitted to the config and the
suite, once into `Settings`), `prompts` (template variables, the template checker, answer
formats) and `facts` (the case facts it reads). This package imports neither `judging` (which
scores by it) nor `reporting` (which aggregates by it).
"""

from __future__ import annotations

from typing import Any

from editbench.protocols.choice import run_protocol
from editbench.protocols.loader import BUILTIN, DEFAULT, builtin, load_protocol
from editbench.protocols.model import Protocol

__all__ = [
    "BUILTIN",
    "DEFAULT",
    "Protocol",
    "builtin",
    "describe",
    "from_meta",
    "load_protocol",
    "run_protocol",
]


def describe(protocol: Protocol) -> dict[str, Any]:
    """What run.json records of the protocol: its name, file, hash, and the spec the reports read."""
    return {
        "name": protocol.name,
        "title": protocol.title,
        "source": protocol.source,
        "sha256": protocol.sha256,
        "spec": protocol.data,
    }


def from_meta(meta: dict[str, Any]) -> Protocol:
    """The protocol a run folder's run.json records; the editbench protocol for a run.json that
    records none (runs written before protocols were recorded for every run)."""
    recorded = meta.get("protocol") or {}
    if not recorded.get("spec"):
        return builtin(DEFAULT)
    from editbench.protocols.loader import protocol_from_spec

    protocol = protocol_from_spec(recorded["spec"])
    return Protocol(
        **{
            **protocol.__dict__,
            "source": str(recorded.get("source") or protocol.source),
            "sha256": str(recorded.get("sha256") or ""),
        }
    )
