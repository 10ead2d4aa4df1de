"""The pages' JavaScript bundle: built from npm packages at build time, never fetched at run time.

`ensure_bundle()` is what `yiwang api`, `yiwang web build` and the page tests call. It hashes
the build inputs (package-lock.json, build.mjs, src/, pages/) and compares the digest with
the one stamped into `dist/` by the last build; only when they differ does it run
`npm ci` (when the lock file changed since node_modules was installed) and `npm run build`
(esbuild: minified bundles with content-hashed names, HTML pages naming them, and
`dist/manifest.json`). A file lock makes concurrent callers (an API and a test session)
build once. The build writes to a fresh folder and swaps it in, so a running API never
serves half a build.

>>> inputs_digest(WEB) == inputs_digest(WEB)
True
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from config.console import say

WEB = Path(__file__).resolve().parent
DIST = WEB / "dist"
STAMP = ".inputs-sha256"
INPUTS = ("package.json", "package-lock.json", "build.mjs")
SOURCE_DIRS = ("src", "pages")


class BundleError(RuntimeError):
    """The bundle cannot be built; the message says what is wrong and what to do."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """A built bundle: its folder and the manifest the build wrote (page → asset files, sizes)."""

    dist: Path
    manifest: dict[str, object]
    built_now: bool


def inputs_digest(web: Path = WEB) -> str:
    """SHA-256 over the names and contents of every build input, in a fixed order."""
    h = hashlib.sha256()
    files = [web / name for name in INPUTS]
    for folder in SOURCE_DIRS:
        files += sorted(p for p in (web / folder).rglob("*") if p.is_file())
    for path in files:
        h.update(str(path.relative_to(web)).encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()


def _lock_digest(web: Path) -> str:
    return hashlib.sha256((web / "package-lock.json").read_bytes()).hexdigest()


def is_current(web: Path = WEB) -> bool:
    stamp = web / "dist" / STAMP
    return stamp.exists() and stamp.read_text().strip() == inputs_digest(web)


@contextmanager
def _build_lock(web: Path) -> Iterator[None]:
    with (web / ".build.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _npm(web: Path, *args: str, what: str) -> None:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BundleError(
            "node and npm are needed once to build the pages (apt-get install nodejs npm); "
            "the API serves them without node afterwards"
        )
    proc = subprocess.run([npm, *args], cwd=web, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise BundleError(f"{what} failed (exit {proc.returncode}) in {web}: {tail}")


def ensure_bundle(web: Path = WEB) -> Bundle:
    """Build the bundle when its inputs changed since the last build; return it either way."""
    dist = web / "dist"
    built = False
    if not is_current(web):
        with _build_lock(web):
            if not is_current(web):  # another process may have built it while we waited
                _build(web)
                built = True
    manifest = json.loads((dist / "manifest.json").read_text())
    return Bundle(dist, manifest, built)


def ensure_node_modules(folder: Path, *, purpose: str = "pages") -> None:
    """`npm ci` in `folder` when its package-lock.json changed since the last install (or on
    the first use); a stamp in node_modules remembers which lock file was installed."""
    modules_stamp = folder / "node_modules" / ".yiwang-lock-sha256"
    lock = _lock_digest(folder)
    if not modules_stamp.exists() or modules_stamp.read_text().strip() != lock:
        say(f"{purpose}: installing the npm packages (npm ci; package-lock.json changed or first use)")
        _npm(folder, "ci", "--no-audit", "--no-fund", "--loglevel=error", what="npm ci")
        modules_stamp.write_text(lock)


def _build(web: Path) -> None:
    ensure_node_modules(web)
    digest = inputs_digest(web)
    staging = web / "dist.new"
    shutil.rmtree(staging, ignore_errors=True)
    say("pages: building the bundle (npm run build)")
    _npm(web, "run", "build", "--silent", "--", str(staging), what="npm run build")
    (staging / STAMP).write_text(digest)
    old = web / "dist.old"
    shutil.rmtree(old, ignore_errors=True)
    dist = web / "dist"
    if dist.exists():
        dist.rename(old)
    staging.rename(dist)
    shutil.rmtree(old, ignore_errors=True)
