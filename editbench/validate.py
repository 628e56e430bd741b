"""`editbench validate [CONFIG]`: the startup checks of a run, and what the run would do."""

from __future__ import annotations

import argparse

from editbench.controller import new_run_dir
from editbench.errors import CaseError
from editbench.settings import Settings, load_settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="editbench validate", description=__doc__)
    parser.add_argument("config", nargs="?", default="benchmarks/default.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--gpus", default=None)
    parser.add_argument("--gpus-per-worker", type=int, default=1)
    parser.add_argument(
        "--images", action="store_true", help="also open every image (slow on big suites)"
    )
    args = parser.parse_args(argv)
    settings = load_settings(args.config, args.overrides, args.gpus, args.gpus_per_worker)
    for line in describe(settings):
        print(line)
    if args.images:
        problems = check_images(settings)
        for problem in problems:
            print(f"  problem: {problem}")
        return 1 if problems else 0
    return 0


def describe(settings: Settings) -> list[str]:
    cfg, suite = settings.config, settings.suite
    counts = suite.counts()
    lines = [
        f"config   {cfg.source}",
        f"suite    {suite.name} {suite.version} ({suite.format}, "
        f"{suite.language}) at {suite.root}: {len(suite.cases)} cases",
    ]
    lines += [f"  {c.display:<8} {c.key:<14} {counts[c.key]:>4} cases" for c in suite.categories]
    lines.append(
        f"editor   {cfg.editor.backend} {cfg.editor.model or ''} steps={cfg.editor.steps}".rstrip()
    )
    lines.append(f"judge    {cfg.judge.backend} {cfg.judge.model or ''} method={cfg.judge.method}")
    devices = (
        "; ".join(",".join(g) for g in settings.groups)
        if settings.groups
        else "CPU (no GPU visible)"
    )
    lines.append(f"devices  {devices}")
    lines.append(f"run dir  {new_run_dir(cfg, None)}")
    lines.append(f"cache    {cfg.resolve(cfg.run.cache_dir) if cfg.run.cache else 'off'}")
    return lines


def check_images(settings: Settings) -> list[str]:
    problems = []
    for case in settings.suite.cases:
        try:
            case.source.load()
        except CaseError as exc:
            problems.append(str(exc))
    return problems


if __name__ == "__main__":  # `python -m editbench.validate ARGS` is `editbench validate ARGS`
    import sys

    from editbench.cli import main as cli_main

    raise SystemExit(cli_main(["validate", *sys.argv[1:]]))
