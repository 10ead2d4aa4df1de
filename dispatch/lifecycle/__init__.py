"""The case lifecycle (README, Case workflow): table-driven state machine, pure and checked before any write.

- `states`  — `CaseState`, `Action`, `Role`: the vocabulary;
- `table`   — the transition table as data: (state, action) -> target, roles, reason, clock effects;
- `case`    — `CaseSnapshot`, `Actor`, `CaseEvent`, and folding events into snapshots (rebuilds);
- `machine` — `open_case` and `apply`: check a transition, describe its event and clock effects.
"""
