// The dead-letter desk: open letters by reason, filters by source, reason and time, the raw
// record, replay (after a configuration fix) and discard with a reason. Whose desk it is says
// above the lists: a district operator's holds their district's letters only (the API limits
// it), the city operator's every letter, filtered by district (or to those no district holds).
// Each letter names its district (城市: none holds it) and, opened, how that was read.
import './common/base.css';
import './admin.css';
import { api, ApiError, query, requireSession } from './common/api.js';
import { h, $, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { t, lang, when, sourceName, SOURCE_CODES, problemNode } from './common/i18n.js';

const me = requireSession('operator');

function problem(err) {
  toast(problemNode(err), 'error');
}

function table(el, head, rows) {
  clear(el).append(h('tr', {}, ...head.map((x) => h('th', {}, x))), ...rows);
}

const local = (v) => (v ? new Date(v).toISOString() : '');
let districtNames = new Map(); // code -> name, of the districts whose layers are in force

function districtOf(letter) {
  return letter.district ? districtNames.get(letter.district) || letter.district : t('city_only');
}

// How a letter's district was read, or why none holds it, worded from the API's `placed_by`
// (dispatch/deadletters/places.py's PlacedBy) in the page's language; the API's English
// `placement` rides along in data-detail. A letter naming nothing is worded by its stage.
const CITY_ZH = '：仅城市运行管理中心处理';
const CITY_EN = ": the city's only";
const PLACEMENTS = {
  zh: {
    event: '其事件写明属于{district}', point: '其坐标位于{district}界内', outside: `其坐标不在任何在用的区界内${CITY_ZH}`,
    address: '地址写明“{names}”：属于{district}', address_nothing: `地址未写明区、街道或社区${CITY_ZH}`,
    address_shared: `地址写明的“{names}”几个区都有，不能确定${CITY_ZH}`,
    address_conflicting: `地址写明的“{names}”不在同一个区${CITY_ZH}`,
    'nothing:adapter': `按其来源的字段读不到坐标或地址${CITY_ZH}`, 'nothing:intake': `报告的位置既无可读坐标也无地址${CITY_ZH}`,
    'nothing:notices': `其事件未写明区、街道或网格代码${CITY_ZH}`, 'nothing:open311': 'Open311 提交归城市运行管理中心处理',
    'nothing:alerts': '应急预警记录归城市运行管理中心处理', 'nothing:replies': `12345 回复未写明地点${CITY_ZH}`,
    nothing: `其记录未写明地点${CITY_ZH}`,
  },
  en: {
    event: 'its event names {district}', point: 'its point lies in {district}',
    outside: `its point lies outside every district's outline in force${CITY_EN}`,
    address: 'the address names {names}: {district}', address_nothing: `the address names no district, street or community${CITY_EN}`,
    address_shared: `the address names {names}, which several districts have: not certain${CITY_EN}`,
    address_conflicting: `the address names {names}, which do not lie in one district${CITY_EN}`,
    'nothing:adapter': `its record gives no readable point or address by its adapter's fields${CITY_EN}`,
    'nothing:intake': `its report's location has no readable point and no address${CITY_EN}`,
    'nothing:notices': `its event names no district, street or grid code${CITY_EN}`, 'nothing:open311': "an Open311 POST is the city's",
    'nothing:alerts': "a CAP record is the city's", 'nothing:replies': `a 12345 reply names no place${CITY_EN}`,
    nothing: `its record names no place${CITY_EN}`,
  },
};

function placementText(letter) {
  const words = PLACEMENTS[lang()] || PLACEMENTS.zh;
  const by = letter.placed_by;
  const said = words[by === 'nothing' ? `nothing:${letter.stage}` : by] || words[by];
  if (!said) return letter.placement; // a word this page does not know yet: the API's own
  const names = (letter.placement_names || []).join(lang() === 'en' ? ', ' : '、');
  return said.replace('{district}', districtOf(letter)).replace('{names}', names);
}

const chosenDistrict = () => { const d = $('#filters [name=district]'); return d ? d.value : ''; };

async function loadCounts() {
  const counts = await api('/dlq/counts' + query({ district: chosenDistrict() }));
  table($('#counts'), [t('open_count'), t('source'), t('field'), t('example')], counts.map((c) =>
    h('tr', { class: 'clickable', onclick: () => filterBy(c) }, h('td', { class: 'num' }, String(c.open)),
      h('td', {}, sourceName(c.source)), h('td', { translate: 'no' }, c.field), h('td', { translate: 'no' }, c.example))));
}

function filterBy(c) {
  const f = $('#filters');
  f.source.value = c.source;
  f.reason.value = c.field;
  loadLetters();
}

async function loadLetters(ev) {
  if (ev) ev.preventDefault();
  const f = new FormData($('#filters'));
  const r = await api('/dlq' + query({
    source: f.get('source'), reason: f.get('reason'), since: local(f.get('since')), until: local(f.get('until')),
    all: f.get('all') ? 'true' : '', district: chosenDistrict(),
  }));
  $('#total').textContent = `${r.total} ${t('total_letters')}`;
  table($('#letters'), [t('letter_id'), t('received'), t('letter_district'), t('source'), t('stage'), t('field'), t('reason'), t('decision'), ''],
    r.letters.map((x) => h('tr', { dataset: { id: x.dlq_id, district: x.district || 'city' } },
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => show(x.dlq_id) }, x.dlq_id.slice(0, 8))),
      h('td', {}, when(x.received_at)), h('td', { class: 'district' }, districtOf(x)), h('td', {}, sourceName(x.source)), h('td', { translate: 'no' }, x.stage), h('td', { translate: 'no' }, x.field),
      h('td', { translate: 'no' }, x.reason + (x.times > 1 ? ` ×${x.times}` : '')), h('td', {}, x.decision ? `${t(x.decision === 'replayed' ? 'replayed_ok' : x.decision)} · ${x.decided_by}` : ''),
      h('td', {},
        h('button', { type: 'button', class: 'replay', onclick: () => replay(x.dlq_id) }, t('replay')), ' ',
        h('button', { type: 'button', class: 'discard', onclick: () => discard(x.dlq_id) }, t('discard'))))));
  document.body.dataset.ready = 'true';
}

async function show(id) {
  const x = await api(`/dlq/${id}`);
  const box = clear($('#letter'));
  box.hidden = false;
  box.append(h('h2', {}, `${t('raw_record')} · ${x.dlq_id}`), h('p', { translate: 'no' }, `${sourceName(x.source)} · ${x.stage} · ${x.field}: ${x.reason}`),
    h('p', { id: 'placement', dataset: { district: x.district || 'city' } }, h('b', {}, `${t('letter_district')}：${districtOf(x)}`), ' · ',
      `${t('placement')}：`, h('span', { class: 'placement-why', dataset: { by: x.placed_by || '', detail: x.placement } }, placementText(x))),
    h('p', { class: 'hint', translate: 'no' }, JSON.stringify(x.origin)), h('pre', { class: 'raw', translate: 'no' }, x.raw));
}

async function refresh() {
  await Promise.all([loadCounts(), loadLetters()]);
}

async function replay(id) {
  document.body.dataset.ready = 'false'; // until the lists are drawn again
  try {
    const r = await api(`/dlq/${id}/replay`, { method: 'POST', body: {} });
    toast(`${r.ok ? t('replayed_ok') : t('replay_failed')}: ${r.outcome}`, r.ok ? 'ok' : 'error');
  } catch (err) {
    problem(err);
  }
  await refresh();
}

async function discard(id) {
  const row = $(`#letters tr[data-id="${id}"] td:last-child`);
  if (row.querySelector('form')) return;
  const form = h('form', { class: 'row' }, h('input', { name: 'reason', required: true, minlength: 3, placeholder: t('discard_reason') }),
    h('button', { type: 'submit', class: 'primary' }, t('discard')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    document.body.dataset.ready = 'false';
    try {
      await api(`/dlq/${id}/discard`, { method: 'POST', body: { reason: form.reason.value } });
      toast(t('discarded'));
    } catch (err) {
      problem(err);
    }
    await refresh();
  });
  row.append(form);
  form.reason.focus();
}

// Whose desk this is, and for the city operator the district filter (their desk holds every
// district's letters and those no district holds). Drawn again on a language switch.
let caller = null; // the caller's area from /reference/layers: a district, or the city

async function whoseDesk() {
  const layers = await api('/reference/layers?geometry=false');
  districtNames = new Map(layers.districts.map((d) => [d.code, d.name]));
  caller = layers.district;
  if (caller.code === 'city') {
    const pick = h('select', { name: 'district' },
      h('option', { value: '' }), ...layers.districts.map((d) => h('option', { value: d.code }, d.name)), h('option', { value: 'city' }));
    pick.addEventListener('change', () => refresh());
    $('#filters').prepend(pick);
  }
  drawDesk();
}

function drawDesk() {
  const city = caller.code === 'city';
  $('#who').textContent = `${me.sub} · ${caller.name}`;
  const desk = $('#desk');
  desk.dataset.district = caller.code;
  desk.textContent = city ? t('desk_of_city') : t('desk_of_district').replace('{name}', caller.name);
  const pick = $('#filters [name=district]');
  if (!pick) return;
  pick.setAttribute('aria-label', t('letter_district'));
  pick.options[0].textContent = t('all_districts');
  pick.options[pick.options.length - 1].textContent = t('city_only_letters');
}

async function main() {
  shell(() => { drawDesk(); refresh(); });
  $('#who').textContent = me.sub;
  await whoseDesk();
  const source = $('#filters [name=source]');
  source.append(h('option', { value: '' }, t('source')), ...SOURCE_CODES.map((s) => h('option', { value: s }, sourceName(s))));
  $('#filters').addEventListener('submit', loadLetters);
  await refresh();
}

main().catch(problem);
