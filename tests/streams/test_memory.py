"""The worker's allocator settings (streams/memory.py), against the real C library.

Each case runs in a fresh interpreter: glibc's settings are process-wide and one-way (a raised
mmap threshold stays raised), so the test process's own allocator history must not decide it.
What is checked is glibc's own account (`mallinfo2`: bytes in mapped blocks, free bytes kept in
the arenas), not a size measured against the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streams.memory import can_release

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not can_release(), reason="the C library is not glibc")

PROBE = """
import ctypes, json, sys
import threading, time
from streams.memory import release_freed, release_in_background, tune_allocator

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    tune_allocator()
# a 1 MiB mapped block freed: glibc's dynamic threshold rises past it unless it is held
libc.free(libc.malloc(1 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(256 * 1024)
mapped = libc.mallinfo2().hblkhd - before >= 256 * 1024
# freed chunks below a live one (the top of the arena pinned): only a trim hands them back
chunks = [libc.malloc(64 * 1024) for _ in range(256)]
for c in chunks:
    ctypes.memset(c, 1, 64 * 1024)
pin = libc.malloc(64 * 1024)
def anon_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("RssAnon"))
if sys.argv[1] == "background":  # the API's way: a thread of its own trims, nobody calls
    stop = release_in_background(0.05)
    held = anon_kib()
    for c in chunks:
        libc.free(c)
    # 16 MiB of freed chunks pinned below `pin`: free() alone gives none of it back
    deadline = time.monotonic() + 10
    while anon_kib() > held - 8 * 1024 and time.monotonic() < deadline:
        time.sleep(0.05)
    released = anon_kib() <= held - 8 * 1024
    stop()
    time.sleep(0.2)
    print(json.dumps({"released": released,
                      "stopped": all(t.name != "release-freed" for t in threading.enumerate())}))
    sys.exit()
for c in chunks:
    libc.free(c)
released = release_freed()
print(json.dumps({"mapped": mapped, "released": released}))
"""


def _probe(mode: str) -> dict[str, bool]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], cwd=REPO, capture_output=True, text=True, check=True
    )
    result: dict[str, bool] = json.loads(out.stdout)
    return result


def test_the_held_threshold_maps_large_buffers_even_after_a_larger_one_was_freed() -> None:
    assert _probe("untuned")["mapped"] is False  # glibc's own rule: the buffer came from the arena
    assert _probe("tuned")["mapped"] is True


def test_freed_chunks_pinned_below_a_live_one_are_handed_back() -> None:
    assert _probe("tuned")["released"] is True


def test_a_background_thread_hands_freed_memory_back_until_stopped() -> None:
    assert _probe("background") == {"released": True, "stopped": True}
