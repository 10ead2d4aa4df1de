// The command-center board: the map, the seven queues of what waits on the operator (triage,
// new, to verify, extension requests, returned, overdue, escalated past the community) always in
// sight, the activity ticker fed by server-sent events, filters, drill-down and the case panel.
//
// Light on the wire: the map's points come once (GET /map?grids=false: the outlines are in the
// layers); a live event names a case, and the board fetches the points of the cases named in
// the last moment (GET /map/points), moves only their markers and the grids they are in, and
// refreshes the queue counts and the one list on show. Only a `resync` reloads the points.
//
// The finder (GET /search: a 110 or 12345 reference, a report id, a phone, address text) opens
// a hit's case panel through its deep link; the list on show exports as Excel or CSV
// (GET /export/incidents with the list's own filter, its queue included).
import './common/base.css';
import './board/board.css';
import { api, query, requireSession } from './common/api.js';
import { h, $, $$, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import {
  t, stateName, actionName, lightName, sourceName, levelName, categoryName, clockName, span, when, STATE_CODES, SOURCE_CODES,
} from './common/i18n.js';
import { subscribe } from './common/live.js';
import { DistrictMap } from './board/map.js';
import { showDetail } from './board/detail.js';
import { SurgeLayer } from './board/surge.js'; // surge and risk layers: their own files
import { RiskLayer } from './board/risk.js';
import { finder } from './kpi/finder.js';
import { download } from './kpi/exports.js';

const me = requireSession('operator');
const QUEUES = ['triage', 'new', 'verify', 'extension', 'returned', 'overdue', 'escalated'];
const CLOSED = new Set(['closed', 'merged', 'rejected']);
const LIST_SIZE = 25;
const SETTLE_MS = 400; // live events within this long are applied together
const state = {
  layers: null, categories: {}, map: null, counts: new Map(), points: new Map(),
  focus: { street: me.street || null, community: null, grid: null }, filters: {},
  queue: 'new', pending: new Set(), resync: false, overlays: [],
};
// what the page did, for its own test (tests/dispatch/web/test_board_light.py)
const stats = { full: 0, incremental: 0, draws: [], updates: [] };
window.__board = stats;

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

function filterParams() {
  const f = state.filters;
  return { ...focusParams(), priority: f.priority, source: f.source, category: f.category };
}

// the list on show: its queue and filters (what GET /incidents and its export both take)
function listParams() {
  const f = state.filters;
  return { ...filterParams(), queue: state.queue, state: f.state ? [f.state] : undefined, light: f.light };
}

// a triage report's register clock (立案): the time left, or how long past
function registerClock(row) {
  const c = row.deadlines && row.deadlines.register;
  if (!c || !c.deadline || c.status !== 'running') return null;
  const s = (new Date(c.deadline).getTime() - Date.now()) / 1000;
  return h('span', { class: `register-clock ${s < 0 ? 'late' : ''}`, dataset: { deadline: c.deadline } },
    `${clockName('register')} ${s >= 0 ? t('time_left_clock') : t('time_over_clock')} ${span(s)}`);
}

// register (立案: then routed) or reject (不予立案: a reason) straight from the triage list: the
// case panel opens with that action's form
function triageButtons(row) {
  if (row.state !== 'reported') return null;
  const act = (action) => (ev) => { ev.stopPropagation(); openDetail(row.incident_id, action); };
  return h('div', { class: 'triage-actions' },
    h('button', { type: 'button', class: 'primary', dataset: { action: 'register' }, onclick: act('register') }, actionName('register')),
    h('button', { type: 'button', dataset: { action: 'reject' }, onclick: act('reject') }, actionName('reject')));
}

function item(row) {
  return h('li', { class: 'item', dataset: { id: row.incident_id }, onclick: () => openDetail(row.incident_id) },
    h('span', { class: `badge ${row.priority}` }, row.priority),
    h('span', { class: `dot ${row.light}`, title: lightName(row.light) }),
    h('b', {}, categoryName(state.categories, row.category)),
    h('span', { class: 'state' }, stateName(row.state)),
    row.escalation_level ? h('span', { class: 'level' }, levelName(row.escalation_level)) : null,
    h('div', { class: 'line' }, row.description.slice(0, 60)),
    h('div', { class: 'meta' }, [nameOf(row.grid_code), row.address, when(row.first_reported_at)].filter(Boolean).join(' · ')),
    registerClock(row), triageButtons(row));
}

async function refreshCounts() {
  const counts = await api('/queues' + query(filterParams()));
  for (const name of QUEUES) $(`#queue-${name} .count`).textContent = String(counts[name]);
}

async function refreshList() {
  const answer = await api('/incidents' + query({ ...listParams(), limit: LIST_SIZE }));
  const box = $('#queue-list');
  box.dataset.queue = state.queue;
  box.querySelector('.queue-name').textContent = t(`queue_${state.queue}`);
  box.querySelector('.shown').textContent = answer.total > answer.items.length ? `${answer.items.length} / ${answer.total}` : '';
  clear(box.querySelector('.items')).append(
    ...(answer.items.length ? answer.items.map(item) : [h('li', { class: 'muted' }, t('nothing'))]));
}

function refreshQueues() {
  return Promise.all([refreshCounts(), refreshList()]);
}

function pickQueue(name) {
  state.queue = name;
  for (const b of $$('#queues .queue')) b.setAttribute('aria-pressed', String(b.dataset.queue === state.queue));
  refreshList();
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

function count(code, p, sign) {
  if (!code) return;
  const c = state.counts.get(code) || { open: 0, overdue: 0 };
  c.open += sign;
  if (p.overdue) c.overdue += sign;
  state.counts.set(code, c);
}

function labelOf(f) {
  const c = [...state.counts.entries()].filter(([code]) => code.startsWith(f.id)).reduce(
    (acc, [, v]) => ({ open: acc.open + v.open, overdue: acc.overdue + v.overdue }), { open: 0, overdue: 0 });
  if (!c.open) return f.properties.name;
  return `${f.properties.name} ${t('grid_open')}${c.open}${c.overdue ? ` ${t('overdue_count')}${c.overdue}` : ''}`;
}

async function loadMap() {
  const geo = await api('/map?grids=false');
  const began = performance.now();
  state.points = new Map();
  state.counts = new Map();
  for (const feature of geo.features) {
    state.points.set(feature.id, feature);
    count(feature.properties.grid_code, feature.properties, 1);
  }
  state.map.markers([...state.points.values()], visible, openDetail);
  drawMap();
  stats.full += 1;
  stats.draws.push({ ms: performance.now() - began, markers: state.points.size });
}

function drawOverlays() {
  const points = [...state.points.values()];
  for (const layer of state.overlays) layer.draw(points);
}

function drawMap() {
  state.map.render(state.focus, state.counts, labelOf);
  state.map.filter(state.points.values(), visible);
  drawOverlays();
}

// the changed cases' points: move their markers and the counts of the grids they left or entered
function applyPoints(ids, features) {
  const began = performance.now();
  const now = new Map(features.map((f) => [f.id, f]));
  const touched = new Set();
  for (const id of ids) {
    const before = state.points.get(id);
    const after = now.get(id);
    if (before) {
      count(before.properties.grid_code, before.properties, -1);
      touched.add(before.properties.grid_code);
    }
    if (after && !CLOSED.has(after.properties.state)) {
      state.points.set(id, after);
      count(after.properties.grid_code, after.properties, 1);
      touched.add(after.properties.grid_code);
      state.map.upsert(after, visible);
    } else {
      state.points.delete(id);
      state.map.remove(id);
    }
  }
  state.map.reshade(touched, state.counts, labelOf);
  drawOverlays();
  stats.incremental += 1;
  stats.updates.push({ ms: performance.now() - began, cases: ids.length });
}

async function settle() {
  if (state.resync) {
    state.resync = false;
    state.pending.clear();
    await Promise.all([loadMap(), refreshQueues(), ...state.overlays.map((l) => l.refresh())]);
    return;
  }
  const ids = [...state.pending];
  state.pending.clear();
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const answer = await api('/map/points' + query({ id: chunk }));
    applyPoints(chunk, answer.features);
  }
  await Promise.all([refreshQueues(), ...state.overlays.map((l) => l.refresh())]);
}

let settleTimer = null;
function scheduleSettle() {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => { settle().catch((e) => console.warn('board: update failed', e)); }, SETTLE_MS);
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
  refreshQueues();
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

async function openDetail(id, action = null) {
  if (location.hash !== `#case=${id}`) history.replaceState(null, '', `#case=${id}`);
  await showDetail($('#detail'), id, {
    action,
    categories: state.categories,
    nameOf,
    changed: () => { state.pending.add(id); scheduleSettle(); },
    open: openDetail,
    closeDetail: () => {
      $('#detail').hidden = true;
      history.replaceState(null, '', location.pathname);
    },
  });
}

async function exportList(button) {
  const format = button.dataset.format;
  button.disabled = true;
  try {
    await download('/export/incidents' + query({ ...listParams(), format }), `cases.${format}`);
    toast(t('exported'));
  } catch (err) {
    toast(`${t('export_failed')}: ${err.message}`, 'error');
  } finally {
    button.disabled = false;
  }
}

function openHit(event) {
  const hit = event.target.closest('.hit');
  if (!hit) return;
  const link = `#case=${hit.dataset.incident}`;
  if (location.hash === link) openDetail(hit.dataset.incident);
  else location.hash = link; // the deep link: hashchange opens the panel
}

function caseInLink() {
  const m = /^#case=([0-9a-f-]{36})$/i.exec(location.hash);
  return m ? m[1] : null;
}

function onLive(itemDoc) {
  if (itemDoc.kind === 'resync') {
    state.resync = true;
  } else {
    const what = itemDoc.kind === 'escalation'
      ? `${actionName('escalate')} ${t(`step_${itemDoc.step}`)} → ${levelName(itemDoc.level)}`
      : `${actionName(itemDoc.action)} → ${stateName(itemDoc.to_state)}`;
    const cat = itemDoc.category ? categoryName(state.categories, itemDoc.category) : '';
    const ticker = $('#ticker');
    ticker.prepend(h('li', { class: `tick ${itemDoc.kind}`, dataset: { id: itemDoc.incident_id }, onclick: () => openDetail(itemDoc.incident_id) },
      h('span', { class: 'meta' }, when(itemDoc.at)), ` ${what} ${cat} · ${nameOf(itemDoc.grid_code || itemDoc.district_code)}`));
    while (ticker.children.length > 40) ticker.lastChild.remove();
    if (itemDoc.incident_id) state.pending.add(itemDoc.incident_id);
  }
  scheduleSettle();
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
    h('li', {}, h('a', { href: '/board/dlq' }, `${c.open} · ${sourceName(c.source)} · ${c.field}`))));
}

function applyFilters() {
  readFilters();
  drawMap();
  refreshQueues();
}

async function main() {
  shell(() => { fillSelects(); crumbs(); drawMap(); refreshQueues(); });
  $('#who').textContent = `${me.sub} · ${me.street || ''}`;
  const [layers, categories] = await Promise.all([api('/reference/layers'), api('/reference/categories')]);
  state.layers = layers;
  state.categories = categories;
  state.map = new DistrictMap($('#map'), layers, pick);
  state.overlays = [new SurgeLayer(state.map, $('.map-pane'), { district: !me.street }), new RiskLayer(state.map, $('.side'), { categories, open: openDetail })];
  $('#who').textContent = `${me.sub} · ${me.street ? nameOf(me.street) : layers.district.name}`;
  fillSelects();
  readFilters();
  for (const b of $$('#queues .queue')) b.addEventListener('click', () => pickQueue(b.dataset.queue));
  for (const b of $$('#queue-list .list-export button')) b.addEventListener('click', () => exportList(b));
  finder(categories);
  $('#found').addEventListener('click', openHit);
  $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); applyFilters(); });
  $('#filters').addEventListener('reset', () => setTimeout(applyFilters));
  window.addEventListener('hashchange', () => { const id = caseInLink(); if (id) openDetail(id); });
  crumbs();
  if (me.street) state.map.zoomTo(state.map.streets.get(me.street));
  await Promise.all([loadMap(), refreshQueues(), refreshDeadLetters().catch(() => null), ...state.overlays.map((l) => l.refresh())]);
  const linked = caseInLink();
  if (linked) await openDetail(linked).catch(() => null);
  document.body.dataset.ready = 'true';
  subscribe('/live', onLive, setLive);
}

main();
