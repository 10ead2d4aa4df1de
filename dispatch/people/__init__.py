"""The workforce as data: people imported from spreadsheets, their PINs, dated shift exceptions.

- `models`   — the PIN and shift-exception tables (the people themselves are `workers`);
- `sheet`    — reading a roster workbook or CSV into cells that know their sheet, row and column;
- `checks`   — validating every row against the district, the forces and the rosters (pure);
- `writes`   — the SQL edge: one-transaction upsert, PINs, exceptions, export, who is on duty;
- `cli`      — `yiwang people …` and `yiwang shifts …`.
"""
