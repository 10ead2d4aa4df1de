"""The main job's process supervisor: stream workers, API and simulator as child processes.

Each stage is a separate `yiwang …` process (a stream worker is a process; Kafka balances
partitions between several), logging to its own file under the settings' log directory.
Ctrl-C or SIGTERM stops them all; a stage that dies is reported and restarted.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

from config.settings import Settings
from deploy.services.common import say, terminate

RESTART_BACKOFF_S = 3.0


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    argv: tuple[str, ...]


SIMULATION_HOUR_S = 3600


def pipeline_stages(settings: Settings, *, rate: float, workers: int) -> list[Stage]:
    """What the main job runs, in start order: stream workers, the API, the simulated feeds.

    Each worker serves its metrics on its own port (metrics_port, +1, …). The simulator runs
    an hour at a time (a fresh seed each hour) and is restarted by the supervisor.
    """
    stages = [
        Stage(f"worker-{i + 1}", ("worker", "--metrics-port", str(settings.metrics_port + i)))
        for i in range(workers)
    ]
    stages.append(Stage("api", ("api", "--port", str(settings.api_port), "--host", settings.api_host)))
    if rate > 0:
        stages.append(
            Stage("simulator", ("simulate", "--rate", str(rate), "--duration", str(SIMULATION_HOUR_S)))
        )
    return stages


def run_pipeline(settings: Settings, *, rate: float, workers: int) -> int:
    stages = pipeline_stages(settings, rate=rate, workers=workers)
    if not stages:
        say("services are up; no pipeline stages exist yet")
        return 0
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    procs: dict[Stage, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def spawn(stage: Stage) -> None:
        log = (settings.log_dir / f"{stage.name}.log").open("ab")
        procs[stage] = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", *stage.argv], stdout=log, stderr=subprocess.STDOUT
        )
        say(f"started {stage.name} (pid {procs[stage].pid}, log {settings.log_dir / stage.name}.log)")

    for stage in stages:
        spawn(stage)
    say("pipeline running; Ctrl-C stops it")
    while not stopping:
        time.sleep(0.5)
        for stage, proc in list(procs.items()):
            code = proc.poll()
            if code is not None and not stopping:
                how = "finished" if code == 0 else f"exited with code {code}"
                say(f"{stage.name} {how}; restarting in {RESTART_BACKOFF_S:.0f}s")
                time.sleep(RESTART_BACKOFF_S)
                spawn(stage)
    say("stopping the pipeline")
    for proc in procs.values():
        if proc.poll() is None:
            terminate(proc.pid, grace_s=20)
    return 0
