"""What a `yiwang run` has running, where `status` and a second `run` can read it.

The supervisor writes `<home>/run/pipeline-<api port>.json` when it starts its stages and
again on every restart: its own pid, and each stage's name, pid, port and log. The file is a
claim, checked against the processes: a record whose supervisor is gone is stale (a killed
run), and a second `run` replaces it. Health is asked of the stages themselves: the API's
`/health`, a worker's metrics endpoint.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from deploy.services.common import port_open, process_alive, process_cmdline

HEALTH_TIMEOUT_S = 1.0


@dataclass(frozen=True, slots=True)
class StageRecord:
    name: str
    kind: str  # worker | api | simulator
    pid: int
    port: int | None  # the API's port, a worker's metrics port; None for the simulator
    log: str
    started_at: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    supervisor: int
    api_host: str
    started_at: str
    stages: list[StageRecord] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> RunRecord | None:
        try:
            doc = json.loads(path.read_text())
            return cls(
                supervisor=int(doc["supervisor"]),
                api_host=str(doc["api_host"]),
                started_at=str(doc["started_at"]),
                stages=[StageRecord(**s) for s in doc["stages"]],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @property
    def alive(self) -> bool:
        return process_alive(self.supervisor) and "deploy.cli" in process_cmdline(self.supervisor)


def record_path(settings: Settings) -> Path:
    return settings.run_dir / f"pipeline-{settings.api_port}.json"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def live_runs(settings: Settings) -> list[tuple[Path, RunRecord]]:
    """Every run of this home whose supervisor still runs (any API port)."""
    out = []
    for path in sorted(settings.run_dir.glob("pipeline-*.json")):
        record = RunRecord.read(path)
        if record is not None and record.alive:
            out.append((path, record))
    return out


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_S) as answer:  # noqa: S310 - our own http://127.0.0.1
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stage_health(stage: StageRecord, host: str) -> dict[str, Any]:
    """Is the process there, and does it answer on its port?"""
    alive = process_alive(stage.pid)
    out: dict[str, Any] = {**asdict(stage), "alive": alive}
    if stage.port and alive:
        path = "/health" if stage.kind == "api" else "/metrics"
        out["healthy"] = answers(f"http://{host}:{stage.port}{path}")
    else:
        out["healthy"] = alive and stage.kind == "simulator"
    return out


def busy_ports(settings: Settings, *, workers: int) -> list[int]:
    """The ports a `run` would listen on that something already holds."""
    ports = [settings.api_port, *(settings.metrics_port + i for i in range(workers) if settings.metrics_port)]
    return [p for p in ports if port_open(p, settings.api_host)]
