"""docker-compose (Debian package), installed when missing, to check deploy/docker-compose.yml.

`docker-compose config` resolves and validates the file against the compose schema without a
Docker daemon; that is what the test suite runs, with the secrets the file demands.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from config.settings import Settings
from deploy.services.common import ServiceError, run
from deploy.services.packages import ensure_packages

PACKAGES = ("docker-compose",)
COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def ensure_compose(settings: Settings) -> str:
    ensure_packages(settings, PACKAGES, purpose="checking deploy/docker-compose.yml")
    path = shutil.which("docker-compose")
    if path is None:
        raise ServiceError("docker-compose is installed but not on PATH")
    return path


def compose_config(executable: str, env: dict[str, str], file: Path = COMPOSE_FILE) -> dict[str, object]:
    """The resolved configuration, as `docker-compose config` prints it; raises on an invalid file."""
    out = run([executable, "-f", str(file), "config"], what="docker-compose config", env=env)
    resolved = yaml.safe_load(out)
    if not isinstance(resolved, dict):
        raise ServiceError(f"docker-compose config printed no mapping for {file}")
    return resolved
