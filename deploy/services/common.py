"""Shared plumbing for the local services: one error type, process and port helpers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from config.console import say

__all__ = ["ServiceError", "say"]


class ServiceError(RuntimeError):
    """A service cannot be brought up; the message says what is wrong and what to do."""


def require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"{name} not found on PATH: {hint}")
    return path


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def process_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def terminate(pid: int, *, grace_s: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after the grace period."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    # gone, not merely signalled: a restart right after must find its ports free
    wait_until(lambda: not process_alive(pid), timeout_s=15, interval_s=0.1)


def wait_until(check: Callable[[], bool], *, timeout_s: float, interval_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def run(
    cmd: Sequence[str],
    *,
    what: str,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
) -> str:
    """Run a command to completion; on failure raise with its last lines of output."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, input=input_text, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ServiceError(f"{what} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return proc.stdout


def stream(cmd: Sequence[str], *, what: str, show: Callable[[str], str | None], log_file: Path) -> None:
    """Run a long command, echoing a digest of its output as progress and logging all of it.

    `show` maps an output line to the progress text to print, or None to stay quiet.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a") as log:
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        last: list[str] = []
        for line in proc.stdout:
            log.write(line)
            last = [*last[-4:], line.strip()]
            shown = show(line)
            if shown:
                say(shown)
        code = proc.wait()
    if code != 0:
        raise ServiceError(f"{what} failed (exit {code}): {' | '.join(last)} (full output in {log_file})")


def as_root_prefix() -> list[str]:
    """[] when already root, ['sudo', '-n'] when passwordless sudo works, else an error."""
    if os.geteuid() == 0:
        return []
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
    ):
        return ["sudo", "-n"]
    raise ServiceError(
        "this step needs root (package install / cluster creation) and passwordless sudo "
        "is not available: run it as root, or set DATABASE_URL to an existing PostGIS"
    )
