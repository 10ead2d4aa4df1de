"""The replay's HTML report: one self-contained file (chart.js inlined), opened from disk.

The page holds the comparison table and four charts — on-time rates per clock, escalation
steps by level, the distribution of tasks per worker and incidents per grid — drawn from the
data embedded in the page. chart.js is the copy the pages' bundle installs
(dispatch/web/node_modules, `npm ci` from its package-lock.json), so no network is needed to
write or to open the report.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import orjson

from dispatch.replay.comparison import CLOCKS, Metric, grid_loads, rate, worker_loads
from dispatch.replay.simulation import RunOutcome
from dispatch.web.bundle import WEB, ensure_node_modules

CHART_JS = Path("node_modules/chart.js/dist/chart.umd.min.js")


def chart_js(web: Path = WEB) -> str:
    ensure_node_modules(web, purpose="replay report")
    return (web / CHART_JS).read_text(encoding="utf-8")


def _histogram(values: list[int], edges: list[int]) -> list[int]:
    counts = [0] * len(edges)
    for v in values:
        i = len(edges) - 1
        while i > 0 and v < edges[i]:
            i -= 1
        counts[i] += 1
    return counts


def _edges(top: int, bins: int = 12) -> list[int]:
    step = max(1, -(-(top + 1) // bins))
    return list(range(0, top + 1, step))


def chart_data(today: RunOutcome, alternative: RunOutcome) -> dict[str, object]:
    runs = (today, alternative)
    w = [worker_loads(r) for r in runs]
    g = [grid_loads(r) for r in runs]
    w_edges = _edges(max([0, *w[0], *w[1]]))
    g_edges = _edges(max([0, *g[0], *g[1]]))
    steps = sorted(set(today.escalations_by_step) | set(alternative.escalations_by_step))

    def on_time(r: RunOutcome) -> list[float | None]:
        rates = [rate(r.clock_runs[c] - r.clock_late[c], r.clock_runs[c]) for c in CLOCKS]
        rates.append(rate(r.closed_on_time, r.closed))
        return [None if math.isnan(x) else round(x * 100, 2) for x in rates]  # NaN: no runs

    return {
        "labels": [r.label for r in runs],
        "onTime": {"labels": [*CLOCKS, "closed on time"], "values": [on_time(r) for r in runs]},
        "steps": {"labels": steps, "values": [[r.escalations_by_step[s] for s in steps] for r in runs]},
        "workers": {
            "labels": [f"{e}+" for e in w_edges],
            "values": [_histogram(v, w_edges) for v in w],
        },
        "grids": {
            "labels": [f"{e}+" for e in g_edges],
            "values": [_histogram(v, g_edges) for v in g],
        },
    }


def render(
    rows: list[Metric],
    today: RunOutcome,
    alternative: RunOutcome,
    *,
    title: str,
    notes: list[str],
    script: str,
) -> str:
    data = orjson.dumps(chart_data(today, alternative)).decode().replace("</", "<\\/")
    body = "\n".join(
        f"<tr><th>{html.escape(m.name)}</th><td>{html.escape(m.shown(m.today))}</td>"
        f"<td>{html.escape(m.shown(m.alternative))}</td><td>{html.escape(m.shown_difference())}</td></tr>"
        for m in rows
    )
    listed = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    safe_script = script.replace("</script", "<\\/script")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, "Noto Sans CJK SC", sans-serif; margin: 1.5rem; color: #1b1f24; }}
h1 {{ font-size: 1.3rem; margin: 0 0 .3rem; }}
ul.notes {{ color: #57606a; margin: .2rem 0 1rem; padding-left: 1.2rem; }}
.layout {{ display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }}
table {{ border-collapse: collapse; flex: 0 0 auto; }}
th, td {{ padding: .2rem .5rem; border-bottom: 1px solid #d0d7de; text-align: right; white-space: nowrap; }}
th:first-child {{ text-align: left; font-weight: normal; }}
thead th {{ font-weight: 600; }}
.charts {{ flex: 1 1 640px; display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
  gap: 1rem; }}
figure {{ margin: 0; }} figcaption {{ font-weight: 600; margin-bottom: .3rem; }}
.chart {{ position: relative; height: 260px; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<ul class="notes">{listed}</ul>
<div class="layout">
<table id="comparison"><thead><tr><th></th><th>{html.escape(today.label)}</th>
<th>{html.escape(alternative.label)}</th><th>difference</th></tr></thead>
<tbody>{body}</tbody></table>
<div class="charts">
<figure><figcaption>On time (%)</figcaption>
<div class="chart"><canvas id="onTime"></canvas></div></figure>
<figure><figcaption>Escalation steps</figcaption>
<div class="chart"><canvas id="steps"></canvas></div></figure>
<figure><figcaption>Force members by tasks received</figcaption>
<div class="chart"><canvas id="workers"></canvas></div></figure>
<figure><figcaption>Grids by incidents opened</figcaption>
<div class="chart"><canvas id="grids"></canvas></div></figure>
</div></div>
<script>{safe_script}</script>
<script id="replay-data" type="application/json">{data}</script>
<script>
const data = JSON.parse(document.getElementById("replay-data").textContent);
const colours = ["#0969da", "#cf222e"];
function bars(id, part, stacked) {{
  new Chart(document.getElementById(id), {{
    type: "bar",
    data: {{ labels: part.labels, datasets: part.values.map((v, i) => ({{
      label: data.labels[i], data: v, backgroundColor: colours[i] }})) }},
    options: {{ animation: false, responsive: true, maintainAspectRatio: false }}
  }});
}}
bars("onTime", data.onTime); bars("steps", data.steps);
bars("workers", data.workers); bars("grids", data.grids);
document.body.dataset.ready = "yes";
</script>
</body></html>
"""
