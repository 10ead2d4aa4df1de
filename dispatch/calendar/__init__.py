"""The working calendar as the district keeps it: the years operators import from the State
Council's notice (`imported_years`), and what an import does to open cases (`revisions`).

- `imported_years` — the `calendar_years` table, and bringing a process's calendar up to it;
- `revisions`      — the flow that recomputes open clocks after an import (`deadline_revised`);
- `cli`            — `yiwang calendar import FILE`, `yiwang calendar show`, `yiwang sla deadline`.
"""
