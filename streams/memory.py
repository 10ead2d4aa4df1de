"""The worker's freed memory handed back to the system (glibc's `mallopt` and `malloc_trim`).

Measured in the pipeline bench (98,925 open cases, then 15,000 reports; glibc's own
`malloc_info` read inside the worker): of the ~165 MB the main allocator arena held from the
system, ~100 MB were *free* chunks, what the start-up and the batches allocated and dropped
(Kafka fetches of up to 1 MiB a partition raise glibc's dynamic mmap threshold, so later large
buffers come from the arena too), kept resident because live objects above them pin the arena's
top: glibc gives back only the top of an arena on its own. `malloc_trim(0)` hands back every
whole free page inside every arena (`madvise`), 6-7 ms for the worker's ~300 MB; RSS 323-361 MB
fell by 65-93 MB each time (docs/architecture.md, "Memory"). Python's own small-object arenas
(pymalloc) are not touched: they go back to the system when they empty.

Where glibc is not the C library (musl, macOS) there is neither: both functions do nothing and
return False (the worker logs it once at start).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

MMAP_THRESHOLD = 128 * 1024
"""Allocations at least this large are mapped on their own and unmapped when freed (glibc's
starting value, held fixed). glibc otherwise raises the threshold to the largest mapped block
ever freed (the Kafka clients' fetch buffers: up to 1 MiB a partition), and from then on those
buffers come from the arena, where they leave holes between live objects: the main arena's
peak in the run fell from ~150 MB to ~105 MB with the threshold held."""
M_MMAP_THRESHOLD = -3
"""mallopt's parameter number (malloc.h); setting it also turns off the dynamic adjustment."""

RELEASE_EVERY_S = 1.0
"""How often the worker hands freed memory back (streams/worker.py): a batch's buffers are freed
within a second of their use, and one trim costs the loop 6-7 ms at most. Measured against 5 s
(alternated with main, README "Memory"): RSS at the end 290-300 MB against 300-303 MB, the rate
within the runs' spread."""


def _glibc(symbol: str, *argtypes: type[ctypes.c_int] | type[ctypes.c_size_t]) -> Callable[..., int] | None:
    """The C library's `symbol`, or None where it has none (not glibc)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    found = getattr(ctypes.CDLL(name), symbol, None)
    if found is None:
        return None
    found.argtypes = list(argtypes)
    found.restype = ctypes.c_int
    return found  # type: ignore[no-any-return]


_TRIM = _glibc("malloc_trim", ctypes.c_size_t)
_MALLOPT = _glibc("mallopt", ctypes.c_int, ctypes.c_int)


def tune_allocator() -> bool:
    """Hold glibc's mmap threshold at `MMAP_THRESHOLD` (the worker's entry point, once, before the
    load). False where the C library has no `mallopt` or refused it."""
    if _MALLOPT is None:
        return False
    return bool(_MALLOPT(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_freed() -> bool:
    """Give every whole free page of the C allocator's arenas back to the system (RSS falls;
    nothing live moves). True when glibc released something."""
    if _TRIM is None:
        return False
    return bool(_TRIM(0))


def can_release() -> bool:
    """Whether this C library has `malloc_trim` (glibc): the worker logs it once at start."""
    return _TRIM is not None


def release_in_background(every_s: float = RELEASE_EVERY_S) -> Callable[[], None]:
    """Hand freed memory back every `every_s` from a daemon thread of its own, for a process
    whose event loop is not ours to add a timer to (the API under uvicorn); returns the function
    that stops it. ctypes lets go of the GIL for the call, so a trim runs beside the requests
    instead of pausing them. Where glibc has no `malloc_trim` it starts nothing."""
    stopped = threading.Event()
    if _TRIM is None:
        return stopped.set

    def loop() -> None:
        while not stopped.wait(every_s):
            release_freed()

    threading.Thread(target=loop, name="release-freed", daemon=True).start()
    return stopped.set
