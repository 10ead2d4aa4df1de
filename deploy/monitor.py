"""`yiwang monitor`: Prometheus with the shipped configuration and alert rules, in the foreground.

Scrapes the targets in deploy/monitoring/targets/ (the API on 8080, workers on 9108, 9109),
keeps its data under the settings' home. The Grafana dashboard is a file to import
(deploy/monitoring/grafana-dashboard.json); no Grafana is installed by the project.
"""

from __future__ import annotations

import argparse
import time

from config.console import say
from config.settings import Settings
from deploy.services.prometheus import MONITORING, PrometheusServer, ensure_prometheus, promtool


def _monitor(settings: Settings, args: argparse.Namespace) -> int:
    ensure_prometheus(settings)
    config = MONITORING / "prometheus.yml"
    promtool("check", "config", str(config))
    server = PrometheusServer(
        config, settings.home / "prometheus", args.port, settings.log_dir / "prometheus.log"
    )
    server.start()
    say(f"Prometheus on {server.url} (targets: {MONITORING / 'targets'}; log {server.log}); Ctrl-C stops it")
    try:
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1)
    finally:
        server.stop()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("monitor", help="run Prometheus with deploy/monitoring/prometheus.yml")
    p.add_argument("--port", type=int, default=9090, help="Prometheus web port on 127.0.0.1 (default 9090)")
    p.set_defaults(func=_monitor)
