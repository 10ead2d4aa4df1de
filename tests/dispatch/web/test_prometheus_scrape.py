"""A real Prometheus server (Debian package, installed by the project when missing) with the
shipped configuration and alert rules scrapes the running API and worker of the page tests
(it lives here to share them): every process's metrics arrive, every metric the shipped Grafana
dashboard draws has samples, the rules load. The server runs on a private port with a temporary
storage directory and is stopped afterwards."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from deploy.services.prometheus import MONITORING, PrometheusServer, configure, ensure_prometheus, promtool
from dispatch.sla.deadlines import calendar_for
from dispatch.sla.policy import load_sla
from tests.dispatch.web.conftest import Stack
from tests.net import free_port
from tests.streams.harness import publish_raw

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _values(server: PrometheusServer, expr: str) -> list[tuple[dict[str, str], float]]:
    data: Any = server.api("query", query=expr)
    return [(r["metric"], float(r["value"][1])) for r in data["result"]]


def _wait(server: PrometheusServer, expr: str, timeout_s: float = 40) -> list[tuple[dict[str, str], float]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _values(server, expr)
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{expr}: nothing after {timeout_s:.0f}s")


def dashboard_metrics() -> set[str]:
    """The yiwang_* series the shipped dashboard's panels query, as stored (counters with _total)."""
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = "\n".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    return {m.removesuffix("_bucket") for m in re.findall(r"\byiwang_[a-z_]+", exprs)}


def test_prometheus_scrapes_the_api_and_a_worker(
    stack: Stack, base_settings: Settings, tmp_path: Path
) -> None:
    ensure_prometheus(base_settings)
    config = configure(
        tmp_path / "prometheus",
        api=[stack.url.removeprefix("http://")],
        workers=[f"127.0.0.1:{stack.worker_metrics_port}"],
        scrape_interval="1s",
    )
    promtool("check", "config", str(config))
    server = PrometheusServer(config, tmp_path / "data", free_port(), tmp_path / "prometheus.log")
    publish_raw(stack.settings, "reports.hotline", [b"{not json"])  # one dead letter to draw
    server.start()
    try:
        up = _wait(server, 'count(up{job=~"yiwang-.*"} == 1) == 2')
        assert up[0][1] == 2
        worker = 'job="yiwang-worker", process="worker"'
        # intake: the hotline report of the stack went through this worker
        assert _wait(server, f'yiwang_reports_in_total{{{worker}, source="hotline"}} >= 1')
        assert _wait(server, f"yiwang_report_to_task_seconds_count{{{worker}}} >= 1")
        for stage in ("locate", "decide"):  # geolocation and routing latency histograms
            assert _wait(server, f'yiwang_stage_seconds_count{{{worker}, stage="{stage}"}} >= 1')
        # the SLA tracker escalated the seeded cases; the lag gauge is filled from the broker
        assert sum(v for _, v in _wait(server, f"yiwang_sla_escalations_total{{{worker}}}")) >= 4
        # the dead letter published above is behind the committed offsets until the worker has
        # taken it: the gauge (refreshed every 10 s from the group's commits) reads 1 on its
        # partition until then, and 0 on every partition once it is done
        hotline_lag = f'yiwang_consumer_lag{{{worker}, topic=~".*reports[.]hotline"}}'
        assert len(_wait(server, hotline_lag)) >= 1
        assert _wait(server, f"max({hotline_lag}) == 0")
        # until when the calendar is authoritative, from the worker's tracker and the API
        until = calendar_for(load_sla()).authoritative_until.timestamp()
        for job in ('job="yiwang-worker"', 'job="yiwang-api"'):
            assert _wait(
                server, f"yiwang_calendar_authoritative_until_timestamp_seconds{{{job}}} == {until:.0f}"
            )
        # the API: open tasks by level and light, refreshed from PostgreSQL on each scrape
        assert _wait(server, 'yiwang_open_tasks{job="yiwang-api", process="api"} > 0')
        # every series the Grafana dashboard draws arrives from a running process
        drawn = dashboard_metrics()
        assert len(drawn) >= 12, drawn
        for name in sorted(drawn):
            assert _wait(server, f'count({{__name__=~"{name}(_bucket)?", job=~"yiwang-.*"}}) > 0'), name
        assert _wait(server, f"yiwang_dead_letters_total{{{worker}}} >= 1")
        groups = server.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        assert {r["name"] for r in rules} >= {
            "YiwangSlaBreachSurge",
            "YiwangDlqSurge",
            "YiwangConsumerLag",
            "YiwangCalendarProvisionalSoon",
        }
        assert all(r["health"] == "ok" for r in rules), rules
    finally:
        server.stop()
    assert server.proc is not None and server.proc.poll() is not None
