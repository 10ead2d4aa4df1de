"""Routing (README: Case workflow, routing): who gets a report, as pure rules over values the caller supplies.

- `values`  — `RoutingIncident`, `Candidate`, `RoutingDecision` and the rule/kind enums;
- `rosters` — `config/rosters.toml` and `on_shift(roster, at, calendar)`;
- `router`  — `Router.route` / `Router.reroute_after_return`: the rule and its fallbacks.
"""
