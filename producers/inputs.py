"""Where `yiwang produce` reads from: a file, standard input, or a directory watched for new files.

A directory is polled (no extra dependency, works on every filesystem): a file is taken once
its size and modification time have stayed the same for one poll interval, so a file still
being copied in is not read half-written. Names starting with "." or ending in .tmp/.part
are ignored. Each file is read once per run; running again re-reads them and the ledger
reports their records as duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".swp")


@dataclass(frozen=True, slots=True)
class Chunk:
    data: bytes
    file: str
    line: int | None = None


def read_file(path: Path) -> Chunk:
    return Chunk(path.read_bytes(), str(path))


def read_stream(stream: BinaryIO, *, by_line: bool, name: str = "<stdin>") -> Iterator[Chunk]:
    """Line-oriented feeds are yielded line by line as they arrive (a CAD system piping JSON
    Lines); the others once the stream ends."""
    if not by_line:
        yield Chunk(stream.read(), name)
        return
    for n, line in enumerate(iter(stream.readline, b""), start=1):
        if line.strip():
            yield Chunk(line, name, n)


def _candidates(directory: Path) -> list[Path]:
    return sorted(
        (
            p
            for p in directory.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(IGNORED_SUFFIXES)
        ),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
    )


def watch(
    directory: Path, *, once: bool, poll_s: float = 1.0, stop: Callable[[], bool] = lambda: False
) -> Iterator[Path]:
    """Files of `directory`, oldest first, then new ones as they appear (until `stop()` or, with
    `once`, after the files present at the start)."""
    done: set[tuple[str, int, int]] = set()
    seen: dict[str, tuple[int, int]] = {}
    first = True
    while not stop():
        for path in _candidates(directory):
            st = path.stat()
            sig = (st.st_size, st.st_mtime_ns)
            if (path.name, *sig) in done:
                continue
            if first or seen.get(path.name) == sig:
                done.add((path.name, *sig))
                yield path
            else:
                seen[path.name] = sig
        first = False
        if once:
            return
        time.sleep(poll_s)
