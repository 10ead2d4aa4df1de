// The command-center board: the map, three live columns (new, overdue, escalated), the
// activity ticker fed by server-sent events, filters, drill-down and the case panel.
import './common/base.css';
import './board/board.css';
import { api, query, requireSession } from './common/api.js';
import { h, $, clear } from './common/dom.js';
import { shell } from './common/shell.js';
import {
  t, stateName, actionName, lightName, sourceName, levelName, categoryName, when, STATE_CODES, SOURCE_CODES,
} from './common/i18n.js';
import { subscribe } from './common/live.js';
import { DistrictMap } from './board/map.js';
import { showDetail } from './board/detail.js';
import { SurgeLayer } from './board/surge.js'; // surge and risk layers: their own files
import { RiskLayer } from './board/risk.js';

const me = requireSession('operator');
const OPEN = ['reported', 'registered', 'dispatched', 'accepted', 'on_site', 'returned', 'extension_requested', 'parked', 'rework', 'reopened', 'resolved', 'verified'];
const NEW = ['reported', 'registered', 'dispatched'];
const COLUMNS = {
  new: { states: NEW },
  overdue: { states: OPEN, light: 'red' },
  escalated: { states: OPEN, escalated: true },
};
const state = {
  layers: null, categories: {}, map: null, counts: new Map(), points: [],
  focus: { street: me.street || null, community: null, grid: null }, filters: {}, overlays: [],
};

function nameOf(code) {
  if (!code || !state.layers) return code || '';
  const l = state.layers;
  const f = (code.length === 9 ? state.map.streets : code.length === 12 ? state.map.communities : state.map.grids).get(code);
  return f ? f.properties.name : code === l.district.code ? l.district.name : code;
}

function readFilters() {
  const form = new FormData($('#filters'));
  state.filters = {
    priority: form.getAll('priority'),
    light: form.get('light') || null,
    state: form.get('state') || null,
    source: form.get('source') || null,
    category: form.get('category') || null,
    q: (form.get('q') || '').trim() || null,
  };
}

function fillSelects() {
  const opts = (name, codes, label) => {
    const select = $(`#filters [name=${name}]`);
    const keep = select.value;
    clear(select).append(h('option', { value: '' }, `${t(name)}：${t('any')}`), ...codes.map((c) => h('option', { value: c }, label(c))));
    select.value = keep;
  };
  opts('light', ['red', 'yellow', 'green'], lightName);
  opts('state', STATE_CODES, stateName);
  opts('source', SOURCE_CODES, sourceName);
  opts('category', Object.keys(state.categories), (c) => categoryName(state.categories, c));
  for (const cls of ['red', 'yellow']) $(`.legend .light-${cls}`).textContent = lightName(cls);
}

function focusParams() {
  const f = state.focus;
  return { grid: f.grid || undefined, community: f.grid ? undefined : f.community || undefined, street: f.street && !f.community && !f.grid ? f.street : undefined };
}

function item(row) {
  return h('li', { class: 'item', dataset: { id: row.incident_id }, onclick: () => openDetail(row.incident_id) },
    h('span', { class: `badge ${row.priority}` }, row.priority),
    h('span', { class: `dot ${row.light}`, title: lightName(row.light) }),
    h('b', {}, categoryName(state.categories, row.category)),
    h('span', { class: 'state' }, stateName(row.state)),
    row.escalation_level ? h('span', { class: 'level' }, levelName(row.escalation_level)) : null,
    h('div', { class: 'line' }, row.description.slice(0, 60)),
    h('div', { class: 'meta' }, `${nameOf(row.grid_code)} · ${when(row.first_reported_at)}`));
}

async function refreshColumns() {
  const f = state.filters;
  await Promise.all(Object.entries(COLUMNS).map(async ([name, col]) => {
    const params = {
      ...focusParams(),
      state: f.state ? [f.state] : col.states,
      light: f.light || col.light,
      escalated: col.escalated,
      priority: f.priority, source: f.source, category: f.category, q: f.q, limit: 12,
    };
    const answer = await api('/incidents' + query(params));
    const box = $(`#col-${name}`);
    box.querySelector('.count').textContent = String(answer.total);
    clear(box.querySelector('.items')).append(
      ...(answer.items.length ? answer.items.map(item) : [h('li', { class: 'muted' }, t('nothing'))]));
  }));
}

function visible(feature) {
  const p = feature.properties;
  const f = state.filters;
  const focus = state.focus;
  if (focus.grid && p.grid_code !== focus.grid) return false;
  if (focus.community && !(p.grid_code || '').startsWith(focus.community)) return false;
  if (focus.street && !(p.grid_code || '').startsWith(focus.street)) return false;
  if (f.priority && f.priority.length && !f.priority.includes(p.priority)) return false;
  if (f.light && p.light !== f.light) return false;
  if (f.state && p.state !== f.state) return false;
  if (f.category && p.category !== f.category) return false;
  return true;
}

async function refreshMap() {
  const geo = await api('/map');
  state.counts = new Map();
  state.points = [];
  for (const feature of geo.features) {
    if (feature.properties.kind === 'grid') state.counts.set(feature.id, feature.properties);
    else state.points.push(feature);
  }
  drawMap();
}

function drawMap() {
  state.map.render(state.focus, state.counts, (f) => {
    const c = [...state.counts.entries()].filter(([code]) => code.startsWith(f.id)).reduce(
      (acc, [, v]) => ({ open: acc.open + v.open, overdue: acc.overdue + v.overdue }), { open: 0, overdue: 0 });
    if (!c.open) return f.properties.name;
    return `${f.properties.name} ${t('open_count')}${c.open}${c.overdue ? ` ${t('overdue_count')}${c.overdue}` : ''}`;
  });
  state.map.markers(state.points, visible, openDetail);
  for (const layer of state.overlays) layer.draw(state.points);
}

function crumbs() {
  const nav = clear($('#crumbs'));
  const f = state.focus;
  const steps = [];
  if (!me.street) steps.push({ label: state.layers.district.name, focus: { street: null, community: null, grid: null } });
  if (f.street) steps.push({ label: nameOf(f.street), focus: { street: f.street, community: null, grid: null } });
  if (f.community) steps.push({ label: nameOf(f.community), focus: { street: f.street, community: f.community, grid: null } });
  if (f.grid) steps.push({ label: nameOf(f.grid), focus: { ...f } });
  steps.forEach((s, i) => {
    if (i) nav.append(h('span', { class: 'sep' }, '›'));
    nav.append(h('button', { type: 'button', class: 'link crumb', onclick: () => setFocus(s.focus) }, s.label));
  });
}

function setFocus(focus) {
  state.focus = focus;
  const m = state.map;
  if (focus.grid) m.zoomTo(m.grids.get(focus.grid), 0.4); // the grid with its neighbours around it
  else m.zoomTo(focus.community ? m.communities.get(focus.community) : focus.street ? m.streets.get(focus.street) : null);
  crumbs();
  drawMap();
  refreshColumns();
}

function pick(gridCode) {
  const grid = state.map.grids.get(gridCode);
  const community = grid.properties.parent;
  const street = gridCode.slice(0, 9);
  const f = state.focus;
  if (!f.street || f.street !== street) setFocus({ street, community: null, grid: null });
  else if (!f.community || f.community !== community) setFocus({ street, community, grid: null });
  else setFocus({ street, community, grid: gridCode });
}

async function openDetail(id) {
  await showDetail($('#detail'), id, {
    categories: state.categories,
    nameOf,
    changed: scheduleRefresh,
    closeDetail: () => { $('#detail').hidden = true; },
  });
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refreshColumns(); refreshMap(); state.overlays.forEach((l) => l.refresh()); }, 400);
}

function onLive(itemDoc) {
  if (itemDoc.kind !== 'resync') {
    const what = itemDoc.kind === 'escalation'
      ? `${actionName('escalate')} ${itemDoc.step} → ${levelName(itemDoc.level)}`
      : `${actionName(itemDoc.action)} → ${stateName(itemDoc.to_state)}`;
    const cat = itemDoc.category ? categoryName(state.categories, itemDoc.category) : '';
    const ticker = $('#ticker');
    ticker.prepend(h('li', { class: `tick ${itemDoc.kind}`, dataset: { id: itemDoc.incident_id }, onclick: () => openDetail(itemDoc.incident_id) },
      h('span', { class: 'meta' }, when(itemDoc.at)), ` ${what} ${cat} · ${nameOf(itemDoc.grid_code)}`));
    while (ticker.children.length > 40) ticker.lastChild.remove();
  }
  scheduleRefresh();
}

function setLive(on) {
  const el = $('#live');
  el.className = `live ${on ? 'on' : 'off'}`;
  el.dataset.i18n = on ? 'live_on' : 'live_off';
  el.textContent = t(el.dataset.i18n);
}

async function refreshDeadLetters() {
  // district operators only: the desk is theirs (a street operator's board has no panel)
  if (me.street) return;
  const counts = await api('/dlq/counts');
  const panel = $('#dlq-panel');
  panel.hidden = false;
  panel.querySelector('.count').textContent = String(counts.reduce((n, c) => n + c.open, 0));
  clear(panel.querySelector('.items')).append(...counts.slice(0, 5).map((c) =>
    h('li', {}, h('a', { href: '/board/dlq' }, `${c.open} · ${c.source} · ${c.field}`))));
}

async function main() {
  shell(() => { fillSelects(); crumbs(); drawMap(); refreshColumns(); });
  $('#who').textContent = `${me.sub} · ${me.street || ''}`;
  const [layers, categories] = await Promise.all([api('/reference/layers'), api('/reference/categories')]);
  state.layers = layers;
  state.categories = categories;
  state.map = new DistrictMap($('#map'), layers, pick);
  state.overlays = [new SurgeLayer(state.map, $('.map-pane')), new RiskLayer(state.map, $('.side'), { categories, open: openDetail })];
  $('#who').textContent = `${me.sub} · ${me.street ? nameOf(me.street) : layers.district.name}`;
  fillSelects();
  readFilters();
  $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); readFilters(); drawMap(); refreshColumns(); });
  $('#filters').addEventListener('reset', () => setTimeout(() => { readFilters(); drawMap(); refreshColumns(); }));
  crumbs();
  if (me.street) state.map.zoomTo(state.map.streets.get(me.street));
  await Promise.all([refreshMap(), refreshColumns(), refreshDeadLetters().catch(() => null), ...state.overlays.map((l) => l.refresh())]);
  document.body.dataset.ready = 'true';
  subscribe('/live', onLive, setLive);
}

main();
