"""`editbench validate [CONFIG]`: the startup checks of a run, and what the run would do.

Exit status: 0 when the config is valid and every case's image file is there (and opens, with
`--images`); 1 when an image is missing or, with `--images`, unreadable (each is listed); 4 when
the config is refused, the same status pytest exits with for the same config error (a usage
error), so a script can treat both alike.
"""

from __future__ import annotations

import argparse
import sys

from editbench.devices import parse_gpu_list, unseen_gpus, visible_gpus
from editbench.errors import CaseError, EditbenchError
from editbench.reporting.rundir import new_run_dir
from editbench.settings import Settings, load_settings

CONFIG_ERROR = 4  # pytest.ExitCode.USAGE_ERROR: what pytest exits with for the same config
IMAGE_PROBLEM = 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="editbench validate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("config", nargs="?", default="benchmarks/default.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--gpus", default=None)
    parser.add_argument("--gpus-per-worker", type=int, default=1)
    parser.add_argument(
        "--images", action="store_true", help="also open every image (slow on big suites)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, args.overrides, args.gpus, args.gpus_per_worker)
    except EditbenchError as exc:
        print(f"editbench validate: error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    for line in describe(settings):
        print(line)
    warning = unseen_gpus(parse_gpu_list(args.gpus), visible_gpus()) if args.gpus else None
    if warning:
        print(f"warning: {warning}")
    problems = check_images(settings) if args.images else missing_images(settings)
    for problem in problems:
        print(f"  problem: {problem}")
    return IMAGE_PROBLEM if problems else 0


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
    lines.append(
        f"judge    {cfg.judge.backend} {cfg.judge.model or ''} method={cfg.judge.method} "
        f"protocol={cfg.judge.protocol}"
    )
    devices = (
        "; ".join(",".join(g) for g in settings.groups)
        if settings.groups
        else "CPU (no GPU visible)"
    )
    lines.append(f"devices  {devices}")
    lines.append(f"run dir  {new_run_dir(cfg, None)}")
    lines.append(f"cache    {cfg.resolve(cfg.run.cache_dir) if cfg.run.cache else 'off'}")
    return lines


def image_refs(case) -> list:
    """A case's image references: its source image(s) and its reference image, if any."""
    sources = list(getattr(case, "sources", None) or [case.source])
    return sources + ([case.reference] if case.reference is not None else [])


def missing_images(settings: Settings) -> list[str]:
    """Every image file a case names that does not exist (cheap: nothing is opened)."""
    return [
        f"{ref.label}: image file {ref.path} does not exist"
        for case in settings.suite.cases
        for ref in image_refs(case)
        if ref.path is not None and not ref.path.is_file()
    ]


def check_images(settings: Settings) -> list[str]:
    """Every image a case names that cannot be opened (missing, corrupt, bad base64, too big)."""
    problems = []
    for case in settings.suite.cases:
        for ref in image_refs(case):
            try:
                ref.load()
            except CaseError as exc:
                problems.append(str(exc))
    return problems


if __name__ == "__main__":  # `python -m editbench.commands.validate ARGS` is `editbench validate`
    from editbench.cli import main as cli_main

    raise SystemExit(cli_main(["validate", *sys.argv[1:]]))
