"""What every process of a run knows: the validated config, the suite and the GPU groups.

Loaded once per process (the controller and each xdist worker alike) by the plugin's
`pytest_configure`, before any model loads; `editbench validate` runs the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from editbench import editors
from editbench.cases import Suite, load_suite
from editbench.config import Config, load_config
from editbench.devices import gpu_groups, parse_gpu_list, visible_gpus
from editbench.judging import modes
from editbench.protocols import Protocol, run_protocol


@dataclass
class Settings:
    """Validated once at startup, identical in the controller and in every worker."""

    config: Config
    suite: Suite
    gpus: list[str]
    groups: list[list[str]]
    protocol: Protocol  # judge.protocol, fitted to the config and the suite: what every part reads

    @property
    def languages(self) -> tuple[str, ...]:
        """suite.language as a preference list: each case uses the first of them it has."""
        return self.suite.preferences


def load_settings(
    config_path: str | None, overrides: list[str], gpus: str | None = None, gpus_per_worker: int = 1
) -> Settings:
    """Read and check everything a run needs, loading no model; raises EditbenchError subclasses."""
    config = load_config(config_path, overrides, for_run=True)
    suite = load_suite(
        config.resolve(config.suite.path),
        config.suite.format,
        config.suite.language,
        config.suite.name,
        config.resolve(config.suite.templates),
        config.resolve(config.suite.images),
        config.suite.categories,
    )
    editors.check(config)
    protocol = check_judge(config, suite)
    chosen = parse_gpu_list(gpus)
    chosen = visible_gpus() if chosen is None else chosen
    groups = gpu_groups(chosen, gpus_per_worker)
    return Settings(config=config, suite=suite, gpus=chosen, groups=groups, protocol=protocol)


def check_judge(config: Config, suite: Suite) -> Protocol:
    """The judge's startup checks: its mode (backend, interpreter, model), then the run's
    protocol fitted to the config and the suite, its templates read and checked."""
    modes.check(config)
    return run_protocol(config, suite)
