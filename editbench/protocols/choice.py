"""The run's protocol: `judge.protocol` loaded, fitted to the run config and the suite, checked.

Done once per process, into `Settings.protocol`, before any model loads; every part of the run
reads it from there. Fitting applies what the protocol leaves to the run config (`judge_chooses`:
`judge.dimensions` picks and orders the asks, `judge.images` sets the images of the asks marked
`judge_images`) and reads the suite's own templates (`template: {suite: sc.txt}`); a derived
dimension whose inputs are no longer all asked is dropped with them (no O without PQ).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from editbench.errors import ConfigError
from editbench.protocols import model as m
from editbench.protocols.facts import case_facts
from editbench.protocols.loader import BUILTIN_DIR, load_protocol, with_hash
from editbench.protocols.prompts import DEFAULT_CRITERIA, read_template, uses
from editbench.suites.model import Suite

PACKAGED_TEMPLATES = BUILTIN_DIR / "templates" / "editbench"  # a suite without `templates:`


def run_protocol(config, suite: Suite) -> m.Protocol:
    """The protocol every part of this run scores and reports by; one clear error if it cannot be."""
    protocol = fitted(load_protocol(config), config)
    if config.judge.backend == "none":  # nothing is asked: its templates are never read
        return protocol
    protocol = with_suite_templates(protocol, suite)
    _criteria(protocol, suite, config.resolve(config.suite.path))
    _every_case_asked(protocol, suite, config.source)
    if config.judge.backend == "constant" and any(a.answer != "score" for a in protocol.asks):
        raise ConfigError(
            f"{config.source}: judge.backend constant answers the editbench protocol's dimensions "
            f"only; protocol {protocol.name} needs a judge model (qwen-vl) or a file.py:Class backend"
        )
    return protocol


def fitted(protocol: m.Protocol, config) -> m.Protocol:
    """The asks and images the run config chooses, where the protocol lets it choose."""
    judge, defaults = config.judge, type(config.judge)()
    for key in m.JUDGE_CHOICES:
        if key not in protocol.judge_chooses and getattr(judge, key) != getattr(defaults, key):
            raise ConfigError(
                f"{config.source}: judge.{key} applies to the editbench protocol only; protocol "
                f"{protocol.name} names its own dimensions and images (remove judge.{key}, or "
                "set judge.protocol: editbench)"
            )
    asks = protocol.asks
    if "dimensions" in protocol.judge_chooses:
        by_dimension = {a.dimension: a for a in asks}
        asks = tuple(by_dimension[d] for d in judge.dimensions if d in by_dimension)
    if "images" in protocol.judge_chooses:
        images = tuple("sources" if kind == "source" else kind for kind in judge.images)
        asks = tuple(dataclasses.replace(a, images=images) if a.judge_images else a for a in asks)
    asked = {d for a in asks for d in a.dimensions}
    derived = []
    for item in protocol.derived:
        inputs = set(item.of) | {d for v in item.variants for d in v.weights}
        if inputs <= asked:
            derived.append(item)
            asked.add(item.dimension)
    return dataclasses.replace(protocol, asks=asks, derived=tuple(derived))


def with_suite_templates(protocol: m.Protocol, suite: Suite) -> m.Protocol:
    """Each `{suite: file}` template read from the suite's template folder (else the packaged
    one) and checked; the protocol's hash then covers them."""
    folder = suite.templates if suite.templates is not None else PACKAGED_TEMPLATES
    asks, files = [], []
    for ask in protocol.asks:
        if isinstance(ask.template, m.SuiteTemplate):
            path = folder / ask.template.file
            if not path.is_file():
                raise ConfigError(
                    f"prompt template {path}: missing; dimension {ask.dimension} needs it "
                    f"(write it, or drop {ask.dimension} from judge.dimensions)"
                )
            read_template(path)
            ask = dataclasses.replace(ask, template=path)
            files.append(path)
        asks.append(ask)
    if not files:
        return protocol
    return with_hash(dataclasses.replace(protocol, asks=tuple(asks)), files)


def _criteria(protocol: m.Protocol, suite: Suite, source: Path | None) -> None:
    """A template that names `{criterion}` needs one for every category of the suite."""
    reads = [
        a
        for a in protocol.asks
        if isinstance(a.template, Path) and uses(read_template(a.template), "criterion")
    ]
    if not reads:
        return
    for category in suite.categories:
        if not (category.criterion or DEFAULT_CRITERIA.get(category.key)):
            raise ConfigError(
                f"suite {suite_file(suite, source)}: category {category.key} "
                f"({category.display}) has no criterion; {where_criteria(suite, category)}"
            )


def suite_file(suite: Suite, source: Path | None) -> Path:
    """The file that defines a suite's categories: suite.yaml, or the file suite.path names."""
    if suite.format == "native":
        return suite.root / "suite.yaml"
    return source if source is not None else suite.root


def where_criteria(suite: Suite, category) -> str:
    """Where a category's criterion is given, in the words of the suite's format: the fix."""
    drop = "or drop criterion from judge.dimensions"
    if suite.format == "native":
        return f"add `criterion:` to category {category.key} in {suite.root / 'suite.yaml'}, {drop}"
    if suite.format == "b64":
        return (
            "give it one in the run config's suite.categories, e.g. suite: {categories: "
            f"[{{key: {category.key}, names: [{category.display}], criterion: ...}}]}}, {drop}"
        )
    name = suite.format
    return (
        f"the {name} benchmark defines no criterion: score it under its own protocol, "
        f"--eb-set=judge.protocol={name} or --eb-config=benchmarks/{name}.yaml (its run config)"
    )


def _every_case_asked(protocol: m.Protocol, suite: Suite, source: str) -> None:
    """A case the protocol asks nothing of would pass unscored: refuse it at startup."""
    empty = [c for c in suite.cases if not protocol.asks_for(c.category.key, case_facts(c))]
    if empty:
        kinds = sorted({c.category.key for c in empty})
        raise ConfigError(
            f"{source}: judge.protocol {protocol.name} asks nothing of {len(empty)} case(s) of "
            f"suite {suite.name} (categories {', '.join(kinds)}; e.g. {empty[0].id}); use the "
            "protocol of that benchmark, or judge.protocol: editbench"
        )
