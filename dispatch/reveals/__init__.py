"""Reporters' phone numbers shown in clear to an operator who calls back, each time recorded.

- `models`  — the `reporter_reveals` table (who, when, which case and report);
- `service` — record a reveal and read the reporter in the same transaction; list reveals.
"""
