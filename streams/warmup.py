"""The worker's first-use costs, paid before it joins the intake's consumer group.

faust starts the services added to the app (`add_dependency`) one after the other before its
own consumer, so a service whose `on_start` awaits the intake's start holds the group join
until the worker can take work at its full rate. Started lazily instead, on the first batch,
the load (index, gazetteer, directory: 1-4 s), the policies and the full collection after them
fell on partitions already assigned to this worker, their records waiting; after a rebalance
those are partitions another worker was serving a moment before.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiokafka.errors import KafkaError
from mode import Service

from streams.memory import release_freed
from streams.outputs import Outputs
from streams.runtime import IntakeRuntime

log = logging.getLogger(__name__)


class IntakeWarmup(Service):
    """Start the intake runtime and the output producer (with the output topics' partitions
    known) before the consumer starts: any service added to the app (`add_dependency`) starts
    before faust's own consumer, whatever its place among the others."""

    def __init__(self, runtime: IntakeRuntime, outputs: Outputs, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.outputs = outputs

    async def on_start(self) -> None:
        began = time.perf_counter()
        warm = await self.runtime.warm()  # its policies go out through the producer: started too
        service = self.runtime.service  # set exactly when `warm`
        if service is not None:
            try:  # what a batch publishes to: partitions looked up here, not by the first batch
                producer = await self.outputs.start()
                for topic in service.topics.values():
                    await producer.partitions_for(topic)
            except KafkaError as exc:  # the first batch's sends wait for the broker as they always did
                log.warning("intake: output topics not looked up before taking work (%s)", exc)
        # the load's and the SLA start's transient rows and buffers (~60-90 MB with 100,000 open
        # cases) back to the system before the first batch, not at the first periodic release
        release_freed()
        log.info(
            "intake: %s before taking work in %.1f s",
            "started" if warm else "not started (database away)",
            time.perf_counter() - began,
        )
