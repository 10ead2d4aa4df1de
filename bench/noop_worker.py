"""The ceiling for the pipeline benchmark: a client consuming the same report topics in the same
batches and producing one record per record read, doing no work.

Two clients (BENCH_CLIENT): `faust` (default), the faust agent the intake was until issue 22;
`lanes`, what the intake reads with now: one aiokafka consumer per lane (streams/lanes.py,
`LaneAssignor`) in one group, each batch produced through aiokafka and committed after it.

Run by bench/pipeline.py as a subprocess (env: BENCH_TOPICS comma-separated, BENCH_SINK,
BENCH_GROUP, BENCH_EXPECT; BENCH_FAUST optionally, faust settings to try as `name=value,...`,
integers or words, e.g. `broker_max_poll_records=2000`). Prints one line
`noop <records> <seconds> <cpu seconds>` when it has read BENCH_EXPECT records, measured from
its first batch to its last, and the CPU it used.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from config.report_partitions import load_report_partitions
from config.settings import Settings
from streams.app import create_app
from streams.lanes import LaneAssignor, lanes_of
from streams.read_ahead import read_ahead
from streams.worker import BATCH_LINGER_S, BATCH_MAX


def faust_overrides(spec: str) -> dict[str, Any]:
    """`name=value,...` as faust settings (digits become ints): the knobs a run measures."""
    out: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        name, _, value = item.partition("=")
        out[name.strip()] = int(value) if value.strip().isdigit() else value.strip()
    return out


async def lanes_noop(settings: Settings) -> None:
    """The lanes' client doing nothing: what one record costs it (consume, produce, commit)."""
    topics, sink = os.environ["BENCH_TOPICS"].split(","), os.environ["BENCH_SINK"]
    expect, group = int(os.environ["BENCH_EXPECT"]), settings.topic(os.environ["BENCH_GROUP"])
    shares = load_report_partitions()
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers.split(","), acks="all", enable_idempotence=True
    )
    await producer.start()
    state: dict[str, float] = {"n": 0, "t0": 0.0, "cpu0": 0.0}
    done = asyncio.Event()

    async def lane(name: str) -> None:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=settings.bootstrap_servers.split(","),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=BATCH_MAX,
            partition_assignment_strategy=(LaneAssignor(name, shares),),
        )
        await consumer.start()
        try:
            while not done.is_set():
                fetched = await consumer.getmany(timeout_ms=1000, max_records=BATCH_MAX)
                records = [m for ms in fetched.values() for m in ms]
                if not records:
                    continue
                if not state["t0"]:
                    state["t0"], state["cpu0"] = time.perf_counter(), time.process_time()
                sent = [await producer.send(sink, m.value, key=m.key) for m in records]
                await asyncio.gather(*sent)
                await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in fetched.items() if ms})
                state["n"] += len(records)
                if state["n"] >= expect:
                    done.set()
        finally:
            await consumer.stop()

    readers = [asyncio.create_task(lane(name)) for name in lanes_of(shares)]  # kept referenced
    await done.wait()
    cpu = time.process_time() - state["cpu0"]
    print(f"noop {int(state['n'])} {time.perf_counter() - state['t0']:.3f} {cpu:.3f}", flush=True)
    del readers
    os._exit(0)


def main() -> None:
    settings = Settings()
    if os.environ.get("BENCH_CLIENT", "faust") == "lanes":
        asyncio.run(lanes_noop(settings))
        return
    overrides = faust_overrides(os.environ.get("BENCH_FAUST", ""))
    app = create_app(settings, app_id=os.environ["BENCH_GROUP"], **overrides)
    source = app.topic(*os.environ["BENCH_TOPICS"].split(","), key_serializer="raw", value_serializer="raw")
    sink, expect = os.environ["BENCH_SINK"], int(os.environ["BENCH_EXPECT"])
    state: dict[str, float] = {"n": 0, "t0": 0.0, "cpu0": 0.0}

    @app.agent(source, concurrency=1)
    async def noop(stream: Any) -> AsyncIterator[None]:
        async for events in read_ahead(stream, BATCH_MAX, BATCH_LINGER_S):
            if not state["t0"]:
                state["t0"], state["cpu0"] = time.perf_counter(), time.process_time()
            for event in events:
                await app.producer.send(sink, event.message.key, event.message.value, None, None, None)
            for event in events:
                await stream.ack(event)
            state["n"] += len(events)
            if state["n"] >= expect:
                cpu = time.process_time() - state["cpu0"]
                print(f"noop {int(state['n'])} {time.perf_counter() - state['t0']:.3f} {cpu:.3f}", flush=True)
                os._exit(0)
            yield None

    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
