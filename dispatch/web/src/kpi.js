// KPIs per street and per community, and the trend over days, from GET /kpi.
import './common/base.css';
import './kpi.css';
import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement,
  CategoryScale, LinearScale, Legend, Tooltip,
} from 'chart.js';
import { api, query, requireSession } from './common/api.js';
import { h, $, clear } from './common/dom.js';
import { shell } from './common/shell.js';
import { t } from './common/i18n.js';
import { finder } from './kpi/finder.js';
import { exports } from './kpi/exports.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;

const me = requireSession('operator');
const RATIOS = ['on_time_acceptance', 'on_time_resolution', 'on_time_closing', 'rework_rate'];
const VOLUNTEER_RATIOS = ['volunteer_share', 'volunteer_on_time']; // the table only: the charts stay readable
const SATISFACTION = ['satisfaction', 'revisit_rate']; // 满意率, 回访率 (dispatch/kpi/satisfaction.py)
const POINTS = ['points_issued', 'points_redeemed'];
const COLORS = { on_time_acceptance: '#2b6cb0', on_time_resolution: '#3f9142', on_time_closing: '#7c5cbf', rework_rate: '#e8871e', overdue: '#d64545' };
const charts = {};
let names = new Map();
let streets = [];

const pct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);

function draw(id, labels, rows, { line = false } = {}) {
  const datasets = RATIOS.map((k) => ({
    type: line ? 'line' : 'bar', label: t(k), data: rows.map((r) => pct(r[k])),
    backgroundColor: COLORS[k], borderColor: COLORS[k], yAxisID: 'y', spanGaps: true,
  }));
  datasets.push({
    type: line ? 'bar' : 'line', label: t('overdue'), data: rows.map((r) => r.overdue),
    backgroundColor: 'rgba(214,69,69,.35)', borderColor: COLORS.overdue, yAxisID: 'y1',
  });
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($(`#${id}`), {
    data: { labels, datasets },
    options: {
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        y: { min: 0, max: 100, title: { display: true, text: '%' } },
        y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: t('overdue') } },
      },
    },
  });
}

function table(rows) {
  const el = clear($('#table'));
  const ratios = [...RATIOS, ...VOLUNTEER_RATIOS, ...SATISFACTION];
  el.append(h('tr', {}, h('th', {}, t('street')), ...ratios.map((k) => h('th', {}, t(k))),
    ...POINTS.map((k) => h('th', {}, t(k))), h('th', {}, t('overdue'))));
  for (const r of rows) {
    el.append(h('tr', {}, h('td', {}, names.get(r.key) || r.key || '—'),
      ...ratios.map((k) => h('td', {}, r[k] == null ? '—' : `${pct(r[k])}%`)),
      ...POINTS.map((k) => h('td', { dataset: { kpi: k } }, r[k] == null ? '0' : String(r[k]))),
      h('td', {}, String(r.overdue))));
  }
}

function period() {
  const days = Number(new FormData($('#controls')).get('days') || 30);
  const until = new Date();
  const since = new Date(until.getTime() - days * 86400000);
  return { since: since.toISOString(), until: until.toISOString() };
}

async function load() {
  const form = new FormData($('#controls'));
  const street = form.get('street') || (streets[0] && streets[0].id);
  const range = period();
  const [byStreet, byCommunity, trend] = await Promise.all([
    api('/kpi' + query({ group: 'street', ...range })),
    api('/kpi' + query({ group: 'community', ...range })),
    api('/kpi' + query({ group: 'district', period: 'day', ...range })),
  ]);
  const streetRows = streets.map((s) => byStreet.items.find((r) => r.key === s.id) || { key: s.id, overdue: 0 });
  draw('chart-street', streetRows.map((r) => names.get(r.key)), streetRows);
  const communityRows = byCommunity.items.filter((r) => (r.key || '').startsWith(street));
  draw('chart-community', communityRows.map((r) => names.get(r.key) || r.key), communityRows);
  draw('chart-trend', trend.items.map((r) => r.period), trend.items, { line: true });
  table(streetRows);
  document.body.dataset.ready = 'true';
}

async function main() {
  shell(load);
  const [layers, categories] = await Promise.all([api('/reference/layers?geometry=false'), api('/reference/categories')]);
  finder(categories);
  exports(period);
  names = new Map([...layers.streets.features, ...layers.communities.features].map((f) => [f.id, f.properties.name]));
  streets = layers.streets.features;
  $('#who').textContent = `${me.sub} · ${me.street ? names.get(me.street) : layers.district.name}`;
  const select = $('#controls [name=street]');
  select.append(...streets.map((s) => h('option', { value: s.id }, s.properties.name)));
  $('#controls').addEventListener('change', load);
  await load();
}

main();
