"""Cases after intake: every transition through the lifecycle, applied to the stored rows.

- `work`       — pure: one case's transitions worked out in memory (rows, clocks, light, tasks);
- `steps`      — pure: the SLA escalation steps due on a case, applied through `work`;
- `documents`  — pure: the Kafka documents a change publishes (incidents, tasks, events,
                 escalations, feedback to the reporting agencies);
- `queries`    — the SQL: load a case `FOR UPDATE`, its tasks, people's open work, outbox reads;
- `flows`      — side effects: one transaction per command, then publish, and the outbox relay.

Imports run one way: flows → queries / documents → steps → work → dispatch.lifecycle, dispatch.sla.
"""
