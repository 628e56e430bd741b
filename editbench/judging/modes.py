"""The judge's two modes, chosen by `judge.mode`: check the configured one at startup, open it per worker.

`gateway` (default): each worker opens its own judge interpreter through execnet. `service`:
every worker calls the run's one OpenAI-compatible endpoint, which the controller started or
adopted (`launch`) before the workers spawned, and which reaches this module as `endpoint`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from editbench.judging import Judge, NoJudge, WorkerInfo

if TYPE_CHECKING:
    from editbench.config import Config
    from editbench.protocols import Protocol


def check(config: Config) -> None:
    """Validate the judge section at startup (backend, interpreter, model) without loading one; the
    protocol and its templates are checked by `protocols.run_protocol`."""
    if config.judge.backend == "none":
        return
    if config.judge.mode == "service":
        from editbench.judging import client

        client.check(config)
        return
    from editbench.judging import gateway

    gateway.check(config)


def open_judge(
    config: Config, protocol: Protocol, worker: WorkerInfo, endpoint: dict[str, Any] | None = None
) -> Judge:
    """Open the judge for one worker: a gateway into the judge interpreter, or the run's judge service."""
    if config.judge.backend == "none":
        return NoJudge()
    if config.judge.mode == "service":
        from editbench.judging import client

        return client.ServiceJudge(config, protocol, worker, client.Endpoint.from_dict(endpoint))
    from editbench.judging import gateway

    return gateway.GatewayJudge(config, protocol, worker)
