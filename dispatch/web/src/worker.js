// The grid worker's phone page: my open tasks, the nearest deadline first; accept, arrive,
// resolve with a note and a photo (shrunk on the phone before it is sent), hand back with a
// reason. Plain forms, no framework: a few kB over a slow connection.
import './common/base.css';
import './worker.css';
import { api, ApiError, newKey, requireSession } from './common/api.js';
import { h, $, $$, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { subscribe } from './common/live.js';
import { showTask } from './worker/detail.js';
import { shrink } from './common/photo.js';
import { t, stateName, lightName, categoryName, sourceName, when, span, problemNode } from './common/i18n.js';

const me = requireSession('grid_worker');
const BUTTONS = {
  dispatched: ['accept', 'return'],
  rework: ['accept', 'return'],
  accepted: ['arrive', 'resolve', 'return'],
  on_site: ['resolve', 'return'],
};
let categories = {};
const reminded = new Set(); // task ids with a reminder since the page opened
let known = null; // task ids on the page, to tell a new task from a changed one

const QUEUE = 'yiwang.worker.queue';
const CONSENT = 'yiwang.worker.share-position';
const SHARE_EVERY_MS = 60000;
let watch = null;
let lastShared = 0;

function sharePosition(on) {
  // opt-in only, remembered on this phone; the API forgets a position once it is stale
  if (watch !== null) navigator.geolocation.clearWatch(watch);
  watch = null;
  if (!on) {
    localStorage.removeItem(CONSENT);
    api('/worker/position', { method: 'DELETE' }).then(() => toast(t('position_off'))).catch(() => {});
    return;
  }
  localStorage.setItem(CONSENT, 'yes');
  lastShared = 0;
  watch = navigator.geolocation.watchPosition((p) => {
    if (Date.now() - lastShared < SHARE_EVERY_MS) return;
    lastShared = Date.now();
    const body = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: Math.min(p.coords.accuracy || 0, 10000) };
    api('/worker/position', { method: 'PUT', body })
      .then(() => { document.body.dataset.shared = 'yes'; toast(t('position_shared')); })
      .catch(() => { lastShared = 0; });
  }, () => {}, { enableHighAccuracy: true, maximumAge: 30000 });
}

function queued() {
  try { return JSON.parse(localStorage.getItem(QUEUE) || '[]'); } catch { return []; }
}

async function send(task, action, body) {
  const path = `/worker/tasks/${task.task_id}/${action}`;
  const key = newKey();
  try {
    await api(path, { method: 'POST', body, key });
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // no connection: kept with its idempotency key and sent when the link returns
    localStorage.setItem(QUEUE, JSON.stringify([...queued(), { path, body, key, action }]));
    toast(`${t('queued')}：${t(action)}`);
    document.body.dataset.queued = String(queued().length);
    return;
  }
  toast(`${t('sent')}：${t(action)}`);
  await load();
}

async function flush() {
  // in order, each with the key it was queued with: a retry the server already applied changes nothing
  let sent = 0;
  for (const item of queued()) {
    try {
      await api(item.path, { method: 'POST', body: item.body, key: item.key });
    } catch (e) {
      if (!(e instanceof ApiError)) break; // still offline: keep the rest
      const said = problemNode(e);
      said.prepend(`${t(item.action)}：`);
      toast(said, 'err');
    }
    localStorage.setItem(QUEUE, JSON.stringify(queued().slice(1)));
    sent += 1;
  }
  document.body.dataset.queued = String(queued().length);
  if (sent) {
    toast(`${t('sent')}：${sent}`);
    await load();
  }
}

function resolveForm(task) {
  const form = h('form', { class: 'stack act-form', dataset: { action: 'resolve' } },
    h('label', {}, t('note'), h('textarea', { name: 'note', rows: 3, required: true, maxlength: 4000 })),
    h('label', {}, t('photo'), h('input', { name: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment' })),
    h('button', { type: 'submit', class: 'primary' }, t('submit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const photos = [];
      const file = form.photo.files[0];
      if (file) {
        toast(t('uploading'));
        const data = new FormData();
        data.append('photo', await shrink(file), 'photo.jpg');
        photos.push((await api('/worker/photos', { method: 'POST', form: data })).key);
      }
      await send(task, 'resolve', { note: form.note.value.trim(), photos });
    } catch (e) {
      toast(problemNode(e), 'err');
      button.disabled = false;
    }
  });
  return form;
}

function returnForm(task) {
  const form = h('form', { class: 'stack act-form', dataset: { action: 'return' } },
    h('label', {}, t('return_reason'), h('input', { name: 'reason', required: true, maxlength: 2000 })),
    h('button', { type: 'submit', class: 'primary' }, t('submit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await send(task, 'return', { reason: form.reason.value.trim() });
    } catch (e) {
      toast(problemNode(e), 'err');
    }
  });
  return form;
}

function card(task) {
  const inc = task.incident;
  const due = task.due ? new Date(task.due) : null;
  const late = due && due < new Date();
  const slot = h('div', { class: 'slot' });
  const buttons = (BUTTONS[inc.state] || []).map((action) => h('button', {
    type: 'button', class: action === 'accept' || action === 'arrive' ? 'primary' : '', dataset: { action },
    onclick: async (ev) => {
      if (action === 'resolve') return clear(slot).append(resolveForm(task));
      if (action === 'return') return clear(slot).append(returnForm(task));
      ev.target.disabled = true;
      try {
        await send(task, action, {});
      } catch (e) {
        toast(problemNode(e), 'err');
        ev.target.disabled = false;
      }
      return null;
    },
  }, t(action)));
  return h('article', { class: `task light-${inc.light}${reminded.has(task.task_id) ? ' reminded' : ''}`, dataset: { task: task.task_id, state: inc.state } },
    h('header', {},
      h('span', { class: `badge ${inc.priority}` }, inc.priority),
      h('b', {}, categoryName(categories, inc.category)),
      h('span', { class: 'state' }, stateName(inc.state))),
    h('p', { class: 'desc' }, inc.description),
    inc.address ? h('p', { class: 'muted' }, inc.address) : null,
    h('details', { class: 'reports', open: (task.reports || []).length > 1 },
      h('summary', {}, `${t('reports')} · ${(task.reports || []).length}`),
      h('ul', {}, (task.reports || []).map((r) => h('li', { dataset: { report: r.report_id } },
        h('span', { class: `badge ${r.priority}` }, r.priority), ' ',
        `${categoryName(categories, r.category)} · ${sourceName(r.source)} · ${when(r.reported_at)}`,
        r.description ? h('div', { class: 'muted' }, r.description) : null)))),
    h('p', { class: late ? 'due late' : 'due' },
      h('span', { class: `dot ${inc.light}`, title: lightName(inc.light) }), ' ',
      due ? `${t('due')} ${when(task.due)}${late ? ` · ${t('overdue_now')}` : ''}` : t('no_due'),
      due && task.due_provisional ? h('span', { class: 'provisional', title: t('provisional_why') }, t('provisional')) : null,
      due ? h('span', { class: 'countdown', dataset: { due: task.due } }) : null),
    h('div', { class: 'buttons' }, buttons,
      h('button', { type: 'button', class: 'link', dataset: { action: 'detail' },
        onclick: () => showTask($('#detail'), task.task_id, { categories, done: () => { $('#detail').hidden = true; load(); } })
          .catch((e) => toast(problemNode(e), 'err')) }, t('details'))),
    slot);
}

function tick() {
  for (const el of $$('.countdown')) {
    const left = (new Date(el.dataset.due) - Date.now()) / 1000;
    el.textContent = left >= 0 ? ` · ${t('left')} ${span(left)}` : '';
  }
}

function notify(title, body) {
  // the phone's own notification and vibration, where the person allowed them
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  if ('Notification' in window && Notification.permission === 'granted' && document.hidden) {
    try { new Notification(title, { body, tag: body }); } catch { /* some browsers only from a service worker */ }
  }
  toast(`${title}${body ? `：${body}` : ''}`);
}

async function load() {
  const answer = await api('/worker/tasks');
  const ids = new Set(answer.items.map((task) => task.task_id));
  const fresh = known ? answer.items.filter((task) => !known.has(task.task_id)) : [];
  known = ids;
  const box = clear($('#tasks'));
  box.append(...(answer.items.length ? answer.items.map(card) : [h('p', { class: 'muted empty' }, t('no_tasks'))]));
  for (const task of fresh) notify(t('new_task'), categoryName(categories, task.incident.category));
  tick();
  document.body.dataset.ready = 'true';
}

let pending = null;
function onLive(item) {
  if (item.kind === 'escalation' && item.task_id) {
    reminded.add(item.task_id);
    document.querySelector(`article[data-task='${item.task_id}']`)?.classList.add('reminded');
    notify(t('reminder'), item.category ? categoryName(categories, item.category) : '');
  }
  clearTimeout(pending);
  pending = setTimeout(refresh, 200);
}

function refresh() {
  // never under the worker's fingers: a form being filled in is kept, the list reloads after
  if ($('#tasks .act-form')) {
    pending = setTimeout(refresh, 2000);
    return;
  }
  load().catch(() => {});
}

function setLive(on) {
  // on a broken link, say so rather than show stale tasks as fresh
  $('#offline').hidden = on;
  $('#tasks').classList.toggle('stale', !on);
  document.body.dataset.live = on ? 'on' : 'off';
}

async function main() {
  shell(load);
  $('#who').textContent = me.sub;
  $('#refresh').addEventListener('click', load);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) load(); });
  categories = await api('/reference/categories');
  await load();
  setInterval(tick, 1000);
  if ('Notification' in window && Notification.permission === 'default') {
    document.body.addEventListener('click', () => Notification.requestPermission().catch(() => {}), { once: true });
  }
  subscribe('/worker/live', onLive, setLive);
  window.addEventListener('online', () => flush().catch(() => {}));
  const share = $('#share-position');
  if ('geolocation' in navigator) {
    share.checked = localStorage.getItem(CONSENT) === 'yes';
    share.addEventListener('change', () => sharePosition(share.checked));
    if (share.checked) sharePosition(true);
  } else {
    share.disabled = true;
  }
  flush().catch(() => {});
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw-m.js', { scope: '/m' }).catch(() => {});
}

main();
