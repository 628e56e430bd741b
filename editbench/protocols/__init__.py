"""Scoring protocols: each benchmark's own dimensions, scales, sub-scores and headline numbers.

`judge.protocol` chooses one: `editbench` (default: SC / PQ / O / criterion with the suite's
templates, exactly as before protocols existed), `gedit`, `imgedit`, `kris`, `rise`, or a path
to a protocol YAML file. Modules: `model` (the protocol as data), `loader` (reading and checking
it), `prompts` (templates and answer formats), `facts` (the case facts it reads), `scoring`
(requests and results of one case, on the worker), `aggregate` (headline numbers, on the
controller) and `render` (their tables).
"""

from __future__ import annotations

from typing import Any

from editbench.errors import ConfigError
from editbench.protocols.loader import BUILTIN, DEFAULT, load_protocol
from editbench.protocols.model import Protocol

__all__ = [
    "BUILTIN",
    "DEFAULT",
    "Protocol",
    "check",
    "describe",
    "from_meta",
    "load_protocol",
    "make_scorer",
]


def check(config, suite) -> Protocol | None:
    """Startup checks of the judge's protocol: it loads, and the config does not contradict it."""
    protocol = load_protocol(config)
    judge = config.judge
    if protocol is None:
        from editbench.judging.prompts import load_templates

        load_templates(suite, list(judge.dimensions), config.resolve(config.suite.path))
        return None
    defaults = type(judge)()
    for key in ("dimensions", "images"):
        if getattr(judge, key) != getattr(defaults, key):
            raise ConfigError(
                f"{config.source}: judge.{key} applies to the editbench protocol only; protocol "
                f"{protocol.name} names its own dimensions and images (remove judge.{key}, or "
                "set judge.protocol: editbench)"
            )
    _every_case_asked(protocol, suite, config.source)
    if judge.backend == "constant":
        raise ConfigError(
            f"{config.source}: judge.backend constant answers the editbench protocol's dimensions "
            f"only; protocol {protocol.name} needs a judge model (qwen-vl) or a file.py:Class backend"
        )
    return protocol


def _every_case_asked(protocol: Protocol, suite, source: str) -> None:
    """A case the protocol asks nothing of would pass unscored: refuse it at startup."""
    from editbench.protocols.facts import case_facts

    empty = [c for c in suite.cases if not protocol.asks_for(c.category.key, case_facts(c))]
    if empty:
        kinds = sorted({c.category.key for c in empty})
        raise ConfigError(
            f"{source}: judge.protocol {protocol.name} asks nothing of {len(empty)} case(s) of "
            f"suite {suite.name} (categories {', '.join(kinds)}; e.g. {empty[0].id}); use the "
            "protocol of that benchmark, or judge.protocol: editbench"
        )


def make_scorer(config, suite, judge_key: dict, send, cache):
    """(the Scorer of the run's protocol, the suite templates it reads or None)."""
    from editbench.judging.scoring import Scorer

    protocol = load_protocol(config)
    if protocol is None:
        from editbench.judging.prompts import load_templates

        templates = load_templates(suite, list(config.judge.dimensions))
        return Scorer(config.judge, templates, judge_key, send, cache), templates
    from editbench.protocols.scoring import ProtocolScorer

    return ProtocolScorer(config.judge, protocol, judge_key, send, cache), None


def describe(protocol: Protocol | None) -> dict[str, Any]:
    """What run.json records of the protocol: its name, file, hash, and the spec the reports read."""
    if protocol is None:
        return {"name": DEFAULT}
    return {
        "name": protocol.name,
        "title": protocol.title,
        "source": protocol.source,
        "sha256": protocol.sha256,
        "spec": protocol.data,
    }


def from_meta(meta: dict[str, Any]) -> Protocol | None:
    """The protocol a run folder's run.json records (None for the editbench protocol)."""
    recorded = meta.get("protocol") or {}
    if not recorded.get("spec"):
        return None
    from editbench.protocols.loader import protocol_from_spec

    protocol = protocol_from_spec(recorded["spec"])
    return Protocol(
        **{
            **protocol.__dict__,
            "source": str(recorded.get("source") or protocol.source),
            "sha256": str(recorded.get("sha256") or ""),
        }
    )
