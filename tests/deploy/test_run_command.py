"""`yiwang run` as a user meets it: the real command on free ports (its own topics and
database), then a second `run` that says what runs and exits 3 instead of crash-looping, and
`status` listing each stage with its pid, port and health and the intake's lag; a port held
by another program is refused before anything starts; `status` with Kafka down says DOWN
once, without kafka-python's connection logs."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings import Settings
from deploy import running, stack
from deploy.cli import ALREADY_RUNNING, main
from deploy.services.common import process_alive, terminate
from tests.conftest import own_topics_and_database
from tests.net import free_port as _free_port

START_WITHIN_S = 120


def _healthy(settings: Settings) -> dict[str, dict[str, object]]:
    runs = stack.pipeline_status(settings, kafka_reachable=True)["runs"]
    return {s["name"]: s for r in runs for s in r["stages"]} if runs else {}


@pytest.mark.kafka
@pytest.mark.db
def test_a_second_run_says_what_runs_and_exits(services: Settings, tmp_path: Path) -> None:
    with own_topics_and_database(services, "runcmd") as isolated:
        settings = isolated.model_copy(
            update={
                "home": tmp_path,  # its own run record and logs
                "kafka_bootstrap_servers": isolated.bootstrap_servers,  # the session's, as external services
                "database_url": isolated.db_url,
                "api_port": _free_port(),
                "metrics_port": _free_port(),
            }
        )
        env = {**os.environ, **settings.to_env()}
        command = [sys.executable, "-m", "deploy.cli", "run", "--rate", "0"]
        with (tmp_path / "first.log").open("wb") as log:
            first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_WITHIN_S
            stages: dict[str, dict[str, object]] = {}
            while time.monotonic() < deadline and first.poll() is None:
                stages = _healthy(settings)
                if {"worker-1", "api"} <= set(stages) and all(s["healthy"] for s in stages.values()):
                    break
                time.sleep(1)
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
            assert stages["api"]["port"] == settings.api_port and stages["api"]["healthy"], stages
            assert stages["worker-1"]["port"] == settings.metrics_port and stages["worker-1"]["healthy"]

            second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
            assert second.returncode == ALREADY_RUNNING, second.stderr
            assert f"already running: `yiwang run` pid {first.pid}" in second.stderr
            assert f"api: pid {stages['api']['pid']}, port {settings.api_port}" in second.stderr
            assert f"worker-1: pid {stages['worker-1']['pid']}, port {settings.metrics_port}" in second.stderr
            assert first.poll() is None and process_alive(int(str(stages["api"]["pid"])))  # untouched

            shown = stack.pipeline_status(settings, kafka_reachable=True)
            assert shown["api"]["answers"] and isinstance(shown["intake_lag"], int) and shown["ok"]
            lines = "\n".join(stack.pipeline_lines(shown))
            assert f"`yiwang run` pid {first.pid}" in lines and f":{settings.api_port}" in lines
            assert "consumer lag" in lines

            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0
            assert not running.record_path(settings).exists()
            assert not process_alive(int(str(stages["api"]["pid"])))
        finally:
            if first.poll() is None:
                terminate(first.pid, grace_s=30)


def test_a_port_held_by_another_program_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setenv("YIWANG_HOME", str(tmp_path))
        monkeypatch.setenv("YIWANG_API_PORT", str(port))
        monkeypatch.setenv("YIWANG_METRICS_PORT", str(_free_port()))
        assert main(["run", "--rate", "0"]) == ALREADY_RUNNING
    said = capsys.readouterr().err
    assert f"port(s) {port} on 127.0.0.1 are already taken" in said and "YIWANG_API_PORT" in said


def test_a_stale_run_record_is_not_a_running_pipeline(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, api_port=_free_port())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running.RunRecord(dead.pid, "127.0.0.1", running.now_text(), []).write(running.record_path(settings))
    assert running.live_runs(settings) == []


@pytest.mark.db
def test_status_with_kafka_down_logs_nothing_of_the_kafka_client(
    services: Settings, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    down = services.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{_free_port()}"})
    level = logging.getLogger("kafka").level
    with caplog.at_level(logging.DEBUG):
        data = stack.status(down)
    stack.print_status(data)
    assert data["kafka"]["reachable"] is False and data["healthy"] is False
    assert data["pipeline"]["intake_lag"] is None
    noisy = [r for r in caplog.records if r.name.startswith("kafka") and r.levelno >= logging.WARNING]
    assert noisy == []
    out = capsys.readouterr()
    assert "Kafka      DOWN" in out.out and "Connection failed" not in out.out + out.err
    assert logging.getLogger("kafka").level == level  # restored
