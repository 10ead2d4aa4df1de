"""Debian packages the project installs for itself when they are missing (as root, or with
passwordless sudo): the browser the page tests drive, the Prometheus server the monitoring
test runs. One line says what to do when that is not possible."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from config.settings import Settings
from deploy.services.common import ServiceError, as_root_prefix, say, stream


def missing_packages(packages: Sequence[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return list(packages)
    missing = []
    for pkg in packages:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in proc.stdout:
            missing.append(pkg)
    return missing


def ensure_packages(
    settings: Settings, packages: Sequence[str], *, purpose: str, otherwise: str = ""
) -> None:
    """Install whichever of `packages` is missing (`apt-get install --no-install-recommends`);
    `otherwise` names an alternative for the error when that is impossible."""
    missing = missing_packages(packages)
    if not missing:
        return
    hint = f"install them once with `sudo apt-get install -y {' '.join(missing)}`" + (
        f", {otherwise}" if otherwise else ""
    )
    if shutil.which("apt-get") is None:
        raise ServiceError(f"{', '.join(missing)} ({purpose}) not installed and apt-get is missing: {hint}")
    try:
        root = as_root_prefix()
    except ServiceError:
        raise ServiceError(
            f"{', '.join(missing)} ({purpose}) not installed, and installing needs root or "
            f"passwordless sudo: {hint}"
        ) from None
    log = settings.log_dir / "apt.log"
    say(f"installing {' '.join(missing)} from Debian for {purpose} (first run only)")
    stream([*root, "apt-get", "update", "-q"], what="apt-get update", show=lambda _: None, log_file=log)
    stream(
        [
            *root,
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            *missing,
        ],
        what="apt-get install",
        show=lambda line: "  " + line.strip()[:100] if line.startswith("Setting up") else None,
        log_file=log,
    )
