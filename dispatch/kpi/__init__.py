"""Dispatch KPIs (README: Case workflow, routing): 按时签收率, 按期处置率, 按期结案率, 返工率, 超期数.

- `queries` — the numbers from SQL over events and incidents, by grid, community, street,
              source and period (the API serves them);
- `metrics` — the Prometheus metrics of the case flows, the SLA tracker and the KPI gauges.
"""
