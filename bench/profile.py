"""Where a worker's time goes: py-spy samples of a running process, summed by pipeline stage.

    .venv/bin/python -m bench.profile PID [--seconds 15] [--out worker.raw]
    .venv/bin/python -m bench.profile --read worker.raw

`bench.pipeline --profile` runs this on its first worker during the sustained run. Samples
are wall-clock (py-spy's default, the process's own threads), so on a machine whose cores
are shared with Kafka and PostgreSQL a stage's share includes the time it waited for a core;
the shares, not the absolute times, are what to compare between runs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # the first stage whose marker is on a sample's stack takes the sample
    ("sla pass", ("SlaTracker.", "CaseFlows.", "streams/sla/")),
    # the worker's other agents (notices read dispatch.events back: ~3 records per report)
    ("other agents", ("streams/agents/",)),
    ("rows", ("_row (dispatch/rows.py", "rows.py", "dispatch/codec.py")),
    ("decide", ("IntakeRules.decide", "for_batch")),
    ("decode", ("decode.py", "report_struct.py", "model_validate_json")),
    ("locate", ("locate.py",)),
    ("write (client side)", ("store.py", "psycopg/")),
    ("publish", ("IntakeService._send (", "Committed.delivered (", "outputs.py")),
    ("faust + aiokafka", ("faust/", "mode/", "aiokafka/")),
)
IDLE = ("select (selectors.py", "_worker (concurrent/futures/thread.py")
"""Leaf frames of a thread waiting: the event loop for sockets (PostgreSQL, Kafka), an idle pool thread."""


def record(pid: int, seconds: float, out: Path) -> Path:
    """py-spy's collapsed stacks of `pid` for `seconds` (needs ptrace rights: root or same user)."""
    spy = shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv/bin/py-spy")
    subprocess.run(
        [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def shares(raw: Path) -> tuple[Counter[str], int]:
    """Samples by stage (and `idle`, `other`), and the total."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        samples = int(n)
        total += samples
        leaf = stack.rsplit(";", 1)[-1]
        if any(marker in leaf for marker in IDLE):
            counts["idle (waiting for input)"] += samples
            continue
        for name, markers in STAGES:
            if any(marker in stack for marker in markers):
                counts[name] += samples
                break
        else:
            counts["other"] += samples
    return counts, total


def hottest(raw: Path, under: str, top: int = 15) -> list[tuple[int, str]]:
    """Inclusive samples of the functions called beneath `under` (a frame name)."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        at = next((i for i, f in enumerate(frames) if under in f), None)
        if at is None or not n.isdigit():
            continue
        for frame in {re.sub(r":\d+\)", ")", f) for f in frames[at + 1 :]}:
            counts[frame] += int(n)
    return [(v, k) for k, v in counts.most_common(top)]


def report(raw: Path) -> str:
    counts, total = shares(raw)
    lines = [f"{total:,} samples"]
    lines += [f"  {name:<28}{n:>7,}  {100 * n / max(total, 1):5.1f} %" for name, n in counts.most_common()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pid", type=int, nargs="?")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--out", type=Path, default=Path("worker.raw"))
    ap.add_argument("--read", type=Path, help="summarise a file py-spy wrote before")
    ap.add_argument("--under", help="also list the hottest functions beneath this frame")
    args = ap.parse_args()
    raw = args.read or record(args.pid, args.seconds, args.out)
    print(report(raw))
    if args.under:
        for n, frame in hottest(raw, args.under):
            print(f"{n:>7,}  {frame}")


if __name__ == "__main__":
    main()
