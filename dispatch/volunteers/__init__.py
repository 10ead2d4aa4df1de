"""Volunteers and public-welfare points (公益积分): take part, earn, redeem.

- `policy`  — which categories and priorities volunteers may be offered, the points table, the
  claim lapse, the starting catalogue (config/volunteers.toml), checked against the taxonomy;
- `values`  — volunteers, offers and claims, catalogue items, redemptions as typed values, and
  the pure claim rules (one holder at a time, a lapse, the task returns);
- `ledger`  — the append-only points ledger as a pure fold: entries idempotent by cause, a
  balance never negative, reversals as entries; statements, leaderboards, yearly totals;
- `models`  — the tables;
- `service` — the SQL of each read and write, one statement each;
- `flows`   — the transactions: register, claim, resolve and verify through the case lifecycle
  (a hook on `dispatch.cases.flows.CaseFlows`), redeem, fulfil.
"""
