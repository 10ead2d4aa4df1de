"""The main job's process supervisor: stream workers, API and simulator as child processes.

Each stage is a separate `yiwang …` process (a stream worker is a process; Kafka balances
partitions between several), logging to its own file under the settings' log directory.
Ctrl-C or SIGTERM stops them all. A stage that dies is reported with the last line of its log
and restarted; one that dies within `QUICK_DEATH_S` of its start `QUICK_DEATHS` times in a row
cannot start at all (a port taken, a broken setting): the supervisor stops everything and
exits 1 instead of looping. What runs is recorded for `yiwang status` (deploy/running.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from config.settings import Settings
from deploy.running import RunRecord, StageRecord, now_text, record_path
from deploy.services.common import say, terminate

RESTART_BACKOFF_S = 3.0
QUICK_DEATH_S = 15.0
QUICK_DEATHS = 3


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    argv: tuple[str, ...]
    kind: str = "worker"  # worker | api | simulator
    port: int | None = None


SIMULATION_HOUR_S = 3600


def pipeline_stages(settings: Settings, *, rate: float, workers: int) -> list[Stage]:
    """What the main job runs, in start order: stream workers, the API, the simulated feeds.

    Each worker serves its metrics on its own port (metrics_port, +1, …). The simulator runs
    an hour at a time (a fresh seed each hour) and is restarted by the supervisor.
    """
    stages = [
        Stage(
            f"worker-{i + 1}",
            ("worker", "--metrics-port", str(settings.metrics_port + i if settings.metrics_port else 0)),
            "worker",
            settings.metrics_port + i if settings.metrics_port else None,
        )
        for i in range(workers)
    ]
    stages.append(
        Stage(
            "api",
            ("api", "--port", str(settings.api_port), "--host", settings.api_host),
            "api",
            settings.api_port,
        )
    )
    if rate > 0:
        stages.append(
            Stage(
                "simulator",
                ("simulate", "--rate", str(rate), "--duration", str(SIMULATION_HOUR_S)),
                "simulator",
            )
        )
    return stages


def last_line(log: Path) -> str:
    """The log's last non-empty line (why a stage died, usually), shortened."""
    try:
        with log.open("rb") as fh:
            fh.seek(max(fh.seek(0, 2) - 4096, 0))
            lines = [line.strip() for line in fh.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "its log is empty"


@dataclass
class _Child:
    stage: Stage
    proc: subprocess.Popen[bytes]
    started: float
    started_at: str
    quick_deaths: int = 0


def run_pipeline(settings: Settings, *, rate: float, workers: int) -> int:
    stages = pipeline_stages(settings, rate=rate, workers=workers)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    children: dict[str, _Child] = {}
    record = record_path(settings)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def log_of(stage: Stage) -> Path:
        return settings.log_dir / f"{stage.name}.log"

    def spawn(stage: Stage, quick_deaths: int = 0) -> None:
        with log_of(stage).open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "deploy.cli", *stage.argv], stdout=log, stderr=subprocess.STDOUT
            )
        children[stage.name] = _Child(stage, proc, time.monotonic(), now_text(), quick_deaths)
        port = f", port {stage.port}" if stage.port else ""
        say(f"started {stage.name} (pid {proc.pid}{port}, log {log_of(stage)})")
        write_record()

    started_at = now_text()

    def write_record() -> None:
        RunRecord(
            supervisor=os.getpid(),
            api_host=settings.api_host,
            started_at=started_at,
            stages=[
                StageRecord(
                    c.stage.name, c.stage.kind, c.proc.pid, c.stage.port, str(log_of(c.stage)), c.started_at
                )
                for c in children.values()
            ],
        ).write(record)

    code = 0
    try:
        for stage in stages:
            spawn(stage)
        say("pipeline running; Ctrl-C stops it")
        while not stopping:
            time.sleep(0.5)
            for child in list(children.values()):
                exit_code = child.proc.poll()
                if exit_code is None or stopping:
                    continue
                how = "finished" if exit_code == 0 else f"exited with code {exit_code}"
                quick = time.monotonic() - child.started < QUICK_DEATH_S and exit_code != 0
                deaths = child.quick_deaths + 1 if quick else 0
                say(f"{child.stage.name} {how}: {last_line(log_of(child.stage))}")
                if deaths >= QUICK_DEATHS:
                    say(
                        f"{child.stage.name} cannot start ({deaths} times within {QUICK_DEATH_S:.0f}s): "
                        f"stopping the pipeline; see {log_of(child.stage)}"
                    )
                    stopping, code = True, 1
                    break
                say(f"restarting {child.stage.name} in {RESTART_BACKOFF_S:.0f}s")
                time.sleep(RESTART_BACKOFF_S)
                spawn(child.stage, deaths)
    finally:
        say("stopping the pipeline")
        for child in children.values():
            if child.proc.poll() is None:
                terminate(child.proc.pid, grace_s=20)
        record.unlink(missing_ok=True)
    return code
