"""The SLA tracker's process edge: `runtime` is what `yiwang worker` runs for deadlines.

It runs the pass (`dispatch.cases.sla_pass`) every `sla_tick_s`, the outbox relay and the
directory refresh, with reconnection; installed on the faust app as timers.
"""
