"""A real one-node Slurm cluster on localhost for the Slurm tier of the tests.

Debian's `slurm-wlm` and `munge` packages provide the daemons; this module writes a munge key
and a `slurm.conf` into a temporary folder and starts munged, slurmctld and slurmd there by
hand (no systemd, nothing under /etc is read or changed). Clients find the cluster through
`SLURM_CONF`, which `SlurmCluster.env` carries; the munge socket is named in `AuthInfo`.

No cgroups, no accounting daemon: `proctrack/linuxproc`, `task/none`, `select/cons_tres` over
CPUs, so it runs inside an unprivileged container as well as on a CI machine.

Where the packages are missing or the daemons do not start, `cluster_session` skips with the
reason; with `EDITBENCH_REQUIRE_SLURM=1` (set by `.ci/run`) it fails instead, so CI never
passes by skipping the tier.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel")
INSTALL_HINT = "apt-get install slurm-wlm munge (Debian/Ubuntu; .ci/run does this in CI)"
PARTITION = "debug"
NODE = "ebnode"
GPUS = 2  # stand-in device files: Slurm hands them out as GPUs and sets CUDA_VISIBLE_DEVICES
START_TIMEOUT_S = 60.0


class ClusterUnavailable(RuntimeError):
    """Slurm cannot run here: the message says why (missing binary, a daemon that died)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(root: Path, user: str, cpus: int, ports: tuple[int, int]) -> str:
    """A one-node cluster: this host runs slurmctld and slurmd, node `ebnode` has `cpus` CPUs."""
    host = socket.gethostname().split(".")[0]
    lines = {
        "ClusterName": "editbench",
        "SlurmctldHost": f"{host}(127.0.0.1)",
        "SlurmUser": user,
        "SlurmdUser": user,
        "SlurmctldPort": ports[0],
        "SlurmdPort": ports[1],
        "AuthType": "auth/munge",
        "CredType": "cred/munge",
        "AuthInfo": f"socket={root / 'munge.socket'}",
        "StateSaveLocation": root / "state",
        "SlurmdSpoolDir": root / "spool",
        "SlurmctldPidFile": root / "slurmctld.pid",
        "SlurmdPidFile": root / "slurmd.pid",
        "SlurmctldLogFile": root / "slurmctld.log",
        "SlurmdLogFile": root / "slurmd.log",
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "JobCompType": "jobcomp/none",
        "MpiDefault": "none",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_CPU",
        "SchedulerType": "sched/backfill",
        "SchedulerParameters": "sched_interval=1",
        # the node's CPU count is taken from here, not probed, so a 2-core CI box looks the same
        "SlurmdParameters": "config_overrides",
        "ReturnToService": 2,
        "KillWait": 2,
        "MinJobAge": 600,
        "InactiveLimit": 0,
        "SlurmdTimeout": 60,
        "PlugStackConfig": root / "plugstack.conf",
        "GresTypes": "gpu",
        "NodeName": f"{NODE} NodeAddr=127.0.0.1 NodeHostname={host} CPUs={cpus} Gres=gpu:{GPUS} "
        "State=UNKNOWN",
        "PartitionName": f"{PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP",
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


class SlurmCluster:
    """munged + slurmctld + slurmd under `root`; `env` lets sbatch, squeue and scancel reach them."""

    def __init__(self, root: Path, cpus: int = 2) -> None:
        self.root = root
        self.cpus = cpus
        self.conf = root / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.processes: list[subprocess.Popen] = []
        self.startup_s: float | None = None

    def start(self) -> None:
        missing = [
            name
            for name in BINARIES
            if shutil.which(name) is None and not Path("/usr/sbin", name).exists()
        ]
        if missing:
            raise ClusterUnavailable(
                f"Slurm is not installed (missing {', '.join(missing)}): {INSTALL_HINT}"
            )
        began = time.monotonic()
        for folder in ("state", "spool", "munge"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "plugstack.conf").write_text("", encoding="utf-8")
        self._write_gres()
        self.conf.write_text(
            slurm_conf(self.root, getpass.getuser(), self.cpus, (free_port(), free_port())),
            encoding="utf-8",
        )
        self._start_munge()
        self._spawn("slurmctld", ["-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", ["-D", "-N", NODE, "-f", str(self.conf)])
        self._wait_for_idle_node()
        self.startup_s = time.monotonic() - began

    def _write_gres(self) -> None:
        """`GPUS` GPUs backed by empty files: enough for Slurm to allocate them and say which."""
        devices = self.root / "dev"
        devices.mkdir(exist_ok=True)
        for index in range(GPUS):
            (devices / f"nvidia{index}").symlink_to("/dev/null")
        (self.root / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={NODE} Name=gpu File={devices}/nvidia[0-{GPUS - 1}]\n",
            encoding="utf-8",
        )

    def _start_munge(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self._spawn(
            "munged",
            [
                "-F",
                "--force",
                f"--key-file={key}",
                f"--socket={self.root / 'munge.socket'}",
                f"--pid-file={self.root / 'munge' / 'munged.pid'}",
                f"--seed-file={self.root / 'munge' / 'munged.seed'}",
                f"--log-file={self.root / 'munge' / 'munged.log'}",
            ],
        )
        self._wait(lambda: (self.root / "munge.socket").exists(), "munged to open its socket")

    def _spawn(self, name: str, args: list[str]) -> None:
        program = shutil.which(name) or str(Path("/usr/sbin", name))
        log = open(self.root / f"{name}.stderr", "wb")
        self.processes.append(
            subprocess.Popen(
                [program, *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.root,
                start_new_session=True,
            )
        )
        log.close()

    def _wait_for_idle_node(self) -> None:
        def idle() -> bool:
            out = self.run(["sinfo", "--noheader", "--format=%T", f"--nodes={NODE}"], check=False)
            return out.returncode == 0 and out.stdout.strip().rstrip("*") == "idle"

        self._wait(idle, f"node {NODE} to become idle")

    def _wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not condition():
            dead = [p for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                reason = (
                    f"{Path(dead[0].args[0]).name} exited with {dead[0].returncode}"
                    if dead
                    else f"timed out after {START_TIMEOUT_S:.0f} s"
                )
                raise ClusterUnavailable(f"waiting for {what}: {reason}\n{self.logs()}")
            time.sleep(0.2)

    def logs(self, tail: int = 15) -> str:
        """The last lines each daemon wrote (they run in the foreground, logging to stderr)."""
        parts = []
        for path in sorted(self.root.glob("*.stderr")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-tail:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def run(
        self, command: list[str], check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess:
        """A Slurm client command against this cluster."""
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
        return done

    def job_state(self, job_id: str) -> str:
        """`scontrol show job`'s JobState (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...)."""
        out = self.run(["scontrol", "--oneliner", "show", "job", job_id]).stdout
        states = [
            field.split("=", 1)[1]
            for line in out.splitlines()
            for field in line.split()
            if field.startswith("JobState=")
        ]
        return ",".join(sorted(set(states)))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def slurm_required() -> bool:
    return os.environ.get("EDITBENCH_REQUIRE_SLURM", "") not in ("", "0")


def cluster_session() -> Iterator[SlurmCluster]:
    """A started one-node cluster, stopped when the generator closes (a session fixture's body)."""
    root = Path(tempfile.mkdtemp(prefix="eb-slurm-"))
    cluster = SlurmCluster(root)
    try:
        cluster.start()
    except ClusterUnavailable as exc:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        if slurm_required():
            pytest.fail(
                f"EDITBENCH_REQUIRE_SLURM is set but Slurm cannot run: {exc}", pytrace=False
            )
        pytest.skip(f"no Slurm here: {exc}".splitlines()[0])
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
