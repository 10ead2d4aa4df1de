"""The intake flow: canonical reports in, incidents, tasks and dead letters out.

- `decode` — bytes of a feed's topic to a typed report, or a dead letter naming the field;
- `locate` — a report to its grid (coordinates, then the gazetteer), per layer in force;
- `rules`  — the pure decision: merge into an open incident, or open a case and dispatch it;
- `store`  — the SQL the batch needs (known reports, merge-cell locks, nearby incidents);
- `flow`   — one batch end to end: decode, locate, decide, write, publish (`IntakeService`);
- `metrics`— the flow's Prometheus counters.

The Kafka edge (consumption, offsets, the producer) lives in `streams/`; it hands records in
and a publish function, and acknowledges offsets after `IntakeService.process` returns.
"""
