"""SLA rules: when a case's clocks run out, read in natural or working time, and who hears about it.

Pure code, no I/O. Modules, lowest first (imports run one way, down this list):

- `calendar`   — working time (Chinese statutory calendar) and natural time, as two time scales;
- `clocks`     — one clock's state (running, paused, stopped) and the arithmetic of pauses;
- `policy`     — `config/sla.toml`: per-priority limits, verification, extensions;
- `ladder`     — `config/escalation.toml`: the escalation ladder, frozen per task as a document;
- `escalation` — `next_step(policy, clock, now, timekeeper)`: the pure step function.
"""
