// A desk's inbox (community lead, street center duty desk, district center, lead department):
// the notices addressed to it, unreceived and most overdue first, each with its case, place,
// the time left to receive it and its history; receive (签收) and answer (反馈: what, by when).
// Desktop and phone: one column on a narrow screen. Refreshed every 30 s; the countdowns tick.
import './common/base.css';
import './inbox.css';
import { api, ApiError, requireSession } from './common/api.js';
import { h, $, $$, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { t, actionName, categoryName, deskName, noticeKind, noticeState, span, when, problemNode } from './common/i18n.js';

const me = requireSession('desk');
const REFRESH_MS = 30000;
let categories = {};

function countdown(el) {
  const left = (new Date(el.dataset.by) - Date.now()) / 1000;
  el.classList.toggle('late', left < 0);
  el.textContent = left >= 0 ? `${t('time_left')} ${span(left)}` : `${t('overdue_by')} ${span(left)}`;
}

function answerForm(n) {
  const by = new Date(Date.now() + 24 * 3600 * 1000);
  const local = new Date(by.getTime() - by.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const form = h('form', { class: 'stack answer-form' },
    h('label', {}, t('answer_what'), h('textarea', { name: 'what', rows: 2, required: true, maxlength: 2000 })),
    h('label', {}, t('answer_by'), h('input', { name: 'by', type: 'datetime-local', required: true, value: local })),
    h('button', { type: 'submit', class: 'primary' }, t('answer')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const when_ = new Date(form.by.value).toISOString();
      await act(n, 'answer', { what: form.what.value.trim(), by: when_ });
    } catch (e) {
      toast(problemNode(e), 'err');
    }
  });
  return form;
}

async function act(n, action, body) {
  await api(`/notices/${encodeURIComponent(n.notice_id)}/${action}`, { method: 'POST', body });
  toast(`${t('action_done')}：${t(action)}`);
  await load();
}

function history(n) {
  // who acted is data (a login, a worker id), kept as written; the notices service is the system
  const who = (id) => (id === 'notices' ? t('system_actor') : h('span', { translate: 'no' }, id));
  const own = n.events.map((e) => h('li', {}, `${when(e.at)} ${noticeState(e.action)} · `, who(e.actor_id)));
  // a system step in the page's words: the English reason the tracker or router logged is not shown
  const system = (e) => e.actor_role === 'system';
  const theCase = n.history.map((e) => h('li', { class: 'muted' },
    `${when(e.at)} ${actionName(e.action)} · `, system(e) ? t('system_actor') : who(e.actor_id),
    e.reason && !system(e) ? ` · ${e.reason}` : ''));
  return h('details', {}, h('summary', {}, t('notice_history')), h('ol', {}, own, theCase));
}

function card(n) {
  const slot = h('div', { class: 'slot' });
  const buttons = [];
  if (n.state === 'sent') {
    buttons.push(h('button', { type: 'button', class: 'primary', dataset: { action: 'receive' },
      onclick: async (ev) => {
        ev.target.disabled = true;
        try { await act(n, 'receive', undefined); } catch (e) { toast(problemNode(e), 'err'); ev.target.disabled = false; }
      } }, t('receive')));
  }
  if (n.state === 'received') {
    buttons.push(h('button', { type: 'button', class: 'primary', dataset: { action: 'answer' },
      onclick: () => clear(slot).append(answerForm(n)) }, t('answer')));
  }
  const place = [n.address, n.grid_code].filter(Boolean).join(' · ');
  return h('article', { class: `notice state-${n.state}`, dataset: { notice: n.notice_id, state: n.state, incident: n.incident_id } },
    h('header', {},
      h('span', { class: 'kind' }, noticeKind(n.kind)),
      h('span', { class: `badge ${n.priority}` }, n.priority),
      h('b', {}, categoryName(categories, n.category)),
      h('span', { class: 'nstate' }, noticeState(n.state))),
    h('p', {}, n.title),
    h('p', { class: 'desc' }, n.description),
    place ? h('p', { class: 'muted place' }, place) : null,
    n.state === 'sent' ? h('p', { class: 'left', dataset: { by: n.receive_by } }) : h('p', { class: 'muted' }, `${noticeState('received')} ${when(n.received_at)}`),
    n.answer ? h('p', { class: 'promise' }, `${t('answered_promise')}：${n.answer}（${when(n.answer_due)}）`) : null,
    h('div', { class: 'buttons' }, buttons),
    slot,
    history(n));
}

async function load() {
  const inbox = await api('/notices');
  $('#who').textContent = `${me.sub} · ${deskName(inbox.desk)}`;
  const box = clear($('#notices'));
  box.append(...(inbox.items.length ? inbox.items.map(card) : [h('p', { class: 'muted empty' }, t('no_notices'))]));
  $$('.left', box).forEach(countdown);
  document.body.dataset.ready = 'true';
}

async function main() {
  shell(load);
  $('#refresh').addEventListener('click', load);
  categories = await api('/reference/categories');
  await load();
  setInterval(() => $$('.left').forEach(countdown), 1000);
  setInterval(() => { if (!document.hidden && !$('.answer-form')) load().catch(() => {}); }, REFRESH_MS);
}

main();
