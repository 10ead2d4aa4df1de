// The grid worker's phone page: my open tasks, the nearest deadline first; accept, arrive,
// resolve with a note and a photo (shrunk on the phone before it is sent), hand back with a
// reason. Plain forms, no framework: a few kB over a slow connection.
import './common/base.css';
import './worker.css';
import { api, ApiError, newKey, requireSession } from './common/api.js';
import { h, $, clear, toast } from './common/dom.js';
import { shell } from './common/shell.js';
import { t, stateName, lightName, categoryName, when } from './common/i18n.js';

const me = requireSession('grid_worker');
const MAX_SIDE = 1600;
const BUTTONS = {
  dispatched: ['accept', 'return'],
  rework: ['accept', 'return'],
  accepted: ['arrive', 'resolve', 'return'],
  on_site: ['resolve', 'return'],
};
let categories = {};

async function shrink(file) {
  // a phone photo (several MB) becomes a JPEG of at most 1600 px a side, a few hundred kB
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/jpeg', 0.8));
    return blob || file;
  } catch {
    return file;
  }
}

async function send(task, action, body) {
  await api(`/worker/tasks/${task.task_id}/${action}`, { method: 'POST', body, key: newKey() });
  toast(`${t('sent')}：${t(action)}`);
  await load();
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
      toast(e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e.message, 'err');
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
      toast(e.message, 'err');
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
        toast(e.message, 'err');
        ev.target.disabled = false;
      }
      return null;
    },
  }, t(action)));
  return h('article', { class: `task light-${inc.light}`, dataset: { task: task.task_id, state: inc.state } },
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
        `${categoryName(categories, r.category)} · ${r.source} · ${when(r.reported_at)}`,
        r.description ? h('div', { class: 'muted' }, r.description) : null)))),
    h('p', { class: late ? 'due late' : 'due' },
      h('span', { class: `dot ${inc.light}`, title: lightName(inc.light) }), ' ',
      due ? `${t('due')} ${when(task.due)}${late ? ` · ${t('overdue_now')}` : ''}` : t('no_due'),
      due && task.due_provisional ? h('span', { class: 'provisional', title: t('provisional_why') }, t('provisional')) : null),
    h('div', { class: 'buttons' }, buttons),
    slot);
}

async function load() {
  const answer = await api('/worker/tasks');
  const box = clear($('#tasks'));
  box.append(...(answer.items.length ? answer.items.map(card) : [h('p', { class: 'muted empty' }, t('no_tasks'))]));
  document.body.dataset.ready = 'true';
}

async function main() {
  shell(load);
  $('#who').textContent = me.sub;
  $('#refresh').addEventListener('click', load);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) load(); });
  categories = await api('/reference/categories');
  await load();
}

main();
