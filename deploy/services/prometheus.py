"""A Prometheus server (Debian package `prometheus`, with `promtool`) for Yiwang's metrics.

`yiwang monitor` runs it in the foreground with `deploy/monitoring/prometheus.yml`; the
monitoring test runs it on a private port with its own targets and a temporary storage
directory, and stops it afterwards. Nothing here starts a system service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Settings
from deploy.services.common import ServiceError, port_open, terminate, wait_until
from deploy.services.packages import ensure_packages

MONITORING = Path(__file__).resolve().parents[1] / "monitoring"
PACKAGES = ("prometheus",)
PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")


def ensure_prometheus(settings: Settings) -> None:
    ensure_packages(settings, PACKAGES, purpose="monitoring (Prometheus and promtool)")


def promtool(*args: str) -> str:
    """Run promtool; its output, or ServiceError with it."""
    proc = subprocess.run([str(PROMTOOL), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ServiceError(f"promtool {' '.join(args)} failed: {(proc.stdout + proc.stderr).strip()}")
    return proc.stdout + proc.stderr


def configure(
    target_dir: Path, *, api: list[str], workers: list[str], scrape_interval: str | None = None
) -> Path:
    """A copy of the shipped configuration and rules in `target_dir`, scraping these targets."""
    target_dir.mkdir(parents=True, exist_ok=True)
    config = (MONITORING / "prometheus.yml").read_text()
    if scrape_interval is not None:
        config = config.replace("scrape_interval: 15s", f"scrape_interval: {scrape_interval}", 1)
        config = config.replace("evaluation_interval: 15s", f"evaluation_interval: {scrape_interval}", 1)
        config = config.replace("scrape_timeout: 10s", f"scrape_timeout: {scrape_interval}", 1)
    (target_dir / "prometheus.yml").write_text(config)
    shutil.copy(MONITORING / "alerts.yml", target_dir / "alerts.yml")
    (target_dir / "targets").mkdir(exist_ok=True)
    for name, targets, process in (("api", api, "api"), ("workers", workers, "worker")):
        doc = [{"targets": targets, "labels": {"process": process}}]
        (target_dir / "targets" / f"{name}.json").write_text(json.dumps(doc))
    return target_dir / "prometheus.yml"


@dataclass
class PrometheusServer:
    """One Prometheus process on 127.0.0.1:`port`."""

    config: Path
    storage: Path
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return [
            str(PROMETHEUS),
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
        ]

    def start(self, *, timeout_s: float = 60) -> None:
        if port_open(self.port):
            raise ServiceError(f"port {self.port} is taken: choose another for Prometheus (--port)")
        self.storage.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT)
        if not wait_until(self.ready, timeout_s=timeout_s):
            self.stop()
            raise ServiceError(f"Prometheus did not become ready in {timeout_s:.0f}s (log: {self.log})")

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise ServiceError(f"Prometheus exited with code {self.proc.returncode} (log: {self.log})")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:  # noqa: S310 - our local URL
                return bool(answer.status == 200)
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as answer:  # noqa: S310
            doc = json.loads(answer.read())
        if doc.get("status") != "success":
            raise ServiceError(f"Prometheus answered {doc}")
        return doc["data"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            terminate(self.proc.pid, grace_s=15)
            self.proc.wait(timeout=15)
