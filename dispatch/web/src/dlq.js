// The dead-letter desk: open letters by reason, filters by source, reason and time, the raw
// record, replay (after a configuration fix) and discard with a reason.
import './common/base.css';
import './admin.css';
import { api, ApiError, query, requireSession } from './common/api.js';
import { h, $, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { t, when, sourceName, SOURCE_CODES, problemNode } from './common/i18n.js';

const me = requireSession('operator');

function problem(err) {
  toast(problemNode(err), 'error');
}

function table(el, head, rows) {
  clear(el).append(h('tr', {}, ...head.map((x) => h('th', {}, x))), ...rows);
}

const local = (v) => (v ? new Date(v).toISOString() : '');

async function loadCounts() {
  const counts = await api('/dlq/counts');
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
    all: f.get('all') ? 'true' : '',
  }));
  $('#total').textContent = `${r.total} ${t('total_letters')}`;
  table($('#letters'), [t('letter_id'), t('received'), t('source'), t('stage'), t('field'), t('reason'), t('decision'), ''],
    r.letters.map((x) => h('tr', { dataset: { id: x.dlq_id } },
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => show(x.dlq_id) }, x.dlq_id.slice(0, 8))),
      h('td', {}, when(x.received_at)), h('td', {}, sourceName(x.source)), h('td', { translate: 'no' }, x.stage), h('td', { translate: 'no' }, x.field),
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

async function main() {
  shell(refresh);
  $('#who').textContent = me.sub;
  const source = $('#filters [name=source]');
  source.append(h('option', { value: '' }, t('source')), ...SOURCE_CODES.map((s) => h('option', { value: s }, sourceName(s))));
  $('#filters').addEventListener('submit', loadLetters);
  await refresh();
}

main().catch(problem);
