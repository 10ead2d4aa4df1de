// People and shifts for district operators: import a roster sheet (every problem named by
// sheet, row and column), export it, reset a PIN, record swaps/takes/leave, who is on duty.
import './common/base.css';
import './admin.css';
import { api, ApiError, query, requireSession, session } from './common/api.js';
import { h, $, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { t, problemNode } from './common/i18n.js';

const me = requireSession('operator');

function table(el, head, rows) {
  clear(el).append(h('tr', {}, ...head.map((x) => h('th', {}, x))), ...rows);
}

function problem(err) {
  toast(problemNode(err), 'error');
}

async function importSheet(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const out = clear($('#import-result'));
  const body = new FormData();
  body.append('file', form.get('file'));
  try {
    const r = await api('/people/import' + query({ check: form.get('check') ? 'true' : '' }), { method: 'POST', form: body });
    out.append(h('p', { class: 'summary' },
      `${t('imported')} ${r.rows}: ${t('added')} ${r.added.length}, ${t('changed')} ${r.changed.length}, ${t('deactivated')} ${r.deactivated.length}`));
    const pins = Object.entries(r.pins || {});
    if (pins.length) {
      out.append(h('p', { class: 'hint' }, t('pins_once')));
      const el = h('table', { id: 'pins', class: 'grid-table' });
      table(el, [t('worker_id'), 'PIN'], pins.map(([w, p]) => h('tr', {}, h('td', {}, w), h('td', {}, p))));
      out.append(el);
    }
  } catch (err) {
    if (!(err instanceof ApiError) || !err.body.problems) return problem(err);
    out.append(h('p', { class: 'summary bad' }, `${t('import_refused')} (${err.body.problems.length || err.message})`));
    const el = h('table', { id: 'problems', class: 'grid-table' });
    table(el, [t('sheet'), t('row'), t('column'), t('problem')], err.body.problems.map((p) =>
      h('tr', { class: 'problem' }, h('td', {}, p.sheet), h('td', { class: 'num' }, String(p.row)), h('td', {}, p.column), h('td', {}, p.message))));
    if (!err.body.problems.length) out.append(h('p', { class: 'summary bad' }, err.message));
    out.append(el);
  }
  document.body.dataset.imported = 'true';
}

async function exportSheet(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const path = '/people/export' + query({ format: form.get('format'), scope: form.get('scope') });
  const r = await fetch(path, { headers: { Authorization: `Bearer ${session().token}` } });
  if (!r.ok) return problem(new ApiError(r.status, await r.json().catch(() => null)));
  const name = (r.headers.get('content-disposition') || '').match(/filename="([^"]+)"/);
  const link = h('a', { href: URL.createObjectURL(await r.blob()), download: name ? name[1] : 'roster' });
  document.body.append(link);
  link.click();
  link.remove();
}

async function resetPin(ev) {
  ev.preventDefault();
  const id = new FormData(ev.target).get('worker_id');
  try {
    const r = await api(`/people/${encodeURIComponent(id)}/reset-pin`, { method: 'POST' });
    clear($('#reset-result')).append(h('p', { class: 'summary' }, `${r.worker_id} · ${t('new_pin')} ${r.pin}`));
  } catch (err) {
    problem(err);
  }
}

async function onDuty(ev) {
  if (ev) ev.preventDefault();
  const area = new FormData($('#duty')).get('area');
  try {
    const people = await api('/people/on-duty' + query(area.length === 15 ? { grid: area } : { community: area }));
    table($('#duty-table'), [t('worker_id'), t('role'), t('roster')], people.length
      ? people.map((p) => h('tr', {}, h('td', {}, p.worker_id), h('td', {}, p.role), h('td', {}, p.roster)))
      : [h('tr', {}, h('td', { colspan: 3 }, t('nobody')))]);
  } catch (err) {
    problem(err);
  }
}

async function loadExceptions() {
  const rows = await api('/people/exceptions');
  table($('#exceptions'), ['#', t('kind'), t('worker_id'), t('other_id'), t('first_day'), t('last_day'), t('note'), ''],
    rows.map((x) => h('tr', {}, h('td', {}, String(x.id)), h('td', {}, t(`kind_${x.kind}`)), h('td', {}, x.worker_id),
      h('td', {}, x.other_id || '—'), h('td', {}, x.first_day), h('td', {}, x.last_day), h('td', {}, x.note),
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => removeException(x.id) }, t('remove'))))));
}

async function removeException(id) {
  await api(`/people/exceptions/${id}`, { method: 'DELETE' }).catch(problem);
  await loadExceptions();
}

async function recordException(ev) {
  ev.preventDefault();
  const f = Object.fromEntries(new FormData(ev.target));
  const body = { kind: f.kind, worker_id: f.worker_id, first_day: f.first_day, note: f.note || '' };
  if (f.other_id) body.other_id = f.other_id;
  if (f.last_day) body.last_day = f.last_day;
  try {
    await api('/people/exceptions', { method: 'POST', body });
    toast(t('action_done'));
    ev.target.reset();
  } catch (err) {
    problem(err);
  }
  await loadExceptions();
}

async function main() {
  shell(() => loadExceptions());
  $('#who').textContent = me.sub;
  $('#import').addEventListener('submit', importSheet);
  $('#export').addEventListener('submit', exportSheet);
  $('#reset').addEventListener('submit', resetPin);
  $('#duty').addEventListener('submit', onDuty);
  $('#exception').addEventListener('submit', recordException);
  await loadExceptions();
  document.body.dataset.ready = 'true';
}

main().catch(problem);
