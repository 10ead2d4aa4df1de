"""The SLA tracker: deadlines held in PostgreSQL, claimed when due, stepped up the ladder.

- `tracker` — one pass: claim due incidents (`FOR UPDATE SKIP LOCKED`), take their due steps
              (`dispatch.cases.steps`), write, commit, publish;
- `runtime` — what `yiwang worker` runs: the tracker every `sla_tick_s`, the outbox relay, the
              directory refresh, with reconnection; installed on the faust app as timers.
"""
