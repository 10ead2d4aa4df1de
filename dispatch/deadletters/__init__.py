"""The dead-letter desk: list, show, replay and discard the records on `reports.dlq`.

- `models` — the operators' decisions (the letters stay on the topic, in their own format);
- `desk`   — reading the topic, filtering and counting (pure), replaying and discarding (edges);
- `cli`    — `yiwang dlq list|show|replay|discard`.
"""
