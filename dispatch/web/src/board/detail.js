// One case in full (reports with masked reporters, the timeline, tasks, deadlines) and the
// operator actions the API says are possible in its state, each with the inputs it needs.
import { api, ApiError, newKey, query, session } from '../common/api.js';
import { h, clear, toast } from '../common/dom.js';
import { t, stateName, actionName, lightName, sourceName, levelName, clockName, categoryName, when } from '../common/i18n.js';

const OPEN = ['reported', 'registered', 'dispatched', 'accepted', 'on_site', 'returned', 'rework', 'reopened'];
const LEVELS = ['community_lead', 'street_center', 'district_center'];

async function photoThumb(key) {
  const img = h('img', { class: 'thumb', alt: key });
  try {
    const r = await fetch(`/photos/${key}`, { headers: { Authorization: `Bearer ${session().token}` } });
    if (r.ok) img.src = URL.createObjectURL(await r.blob());
  } catch {
    /* the key stays visible as alt text */
  }
  return img;
}

async function actionForm(d, action, needsReason, done) {
  const inc = d.incident;
  const form = h('form', { class: 'action-form stack', dataset: { action } });
  if (action === 'reassign' || action === 'dispatch') {
    form.append(h('label', {}, t('assignee'), h('input', { name: 'assignee', maxlength: 64, placeholder: t('router_picks') })));
  }
  if (action === 'merge') {
    const others = await api('/incidents' + query({ grid: inc.grid_code, state: OPEN, limit: 50 }));
    const select = h('select', { name: 'merged_into', required: true });
    for (const o of others.items.filter((o) => o.incident_id !== inc.incident_id)) {
      select.append(h('option', { value: o.incident_id }, `${o.priority} ${o.description.slice(0, 24)} · ${when(o.first_reported_at)}`));
    }
    form.append(h('label', {}, t('merge_into'), select));
  }
  if (action === 'approve_extension') {
    form.append(h('label', {}, t('extension'), h('input', { name: 'extension', maxlength: 16 })));
  }
  if (action === 'escalate') {
    const select = h('select', { name: 'level' }, LEVELS.map((l) => h('option', { value: l }, levelName(l))));
    form.append(h('label', {}, t('level'), select));
  }
  form.append(h('label', {}, t('reason') + (needsReason ? ' *' : ''),
    h('textarea', { name: 'reason', rows: 2, maxlength: 2000, required: needsReason })));
  form.append(h('button', { type: 'submit', class: 'primary' }, `${t('do_action')}：${actionName(action)}`));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [k, v] of new FormData(form).entries()) if (String(v).trim()) body[k] = String(v).trim();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      await api(`/incidents/${inc.incident_id}/${action}`, { method: 'POST', body, key: newKey() });
      toast(`${t('action_done')}：${actionName(action)}`);
      done();
    } catch (e) {
      toast(e instanceof ApiError && e.field ? `${e.field}: ${e.message}` : e.message, 'err');
      button.disabled = false;
    }
  });
  return form;
}

export async function showDetail(panel, id, ctx) {
  const d = await api(`/incidents/${id}`);
  const inc = d.incident;
  const reload = () => { ctx.changed(); showDetail(panel, id, ctx); };
  const forms = h('div', { class: 'forms' });
  const buttons = d.actions.map((a) => h('button', {
    type: 'button', class: 'act', dataset: { action: a.action },
    onclick: async () => {
      clear(forms).append(await actionForm(d, a.action, a.reason, reload));
      forms.querySelector('textarea, input, select')?.focus();
    },
  }, actionName(a.action)));
  const deadlines = Object.entries(inc.deadlines || {}).map(([clock, c]) =>
    h('li', { dataset: { clock, provisional: String(Boolean(c.provisional)) } },
      `${clockName(clock)}：${c.deadline ? when(c.deadline) : '—'}（${clockName(c.status)}）`,
      c.provisional && h('span', { class: 'provisional', title: t('provisional_why') }, t('provisional'))));
  const place = [ctx.nameOf(inc.street_code), ctx.nameOf(inc.community_code), ctx.nameOf(inc.grid_code)].filter(Boolean).join(' / ');
  clear(panel).append(
    h('header', { class: 'detail-head' },
      h('span', { class: `badge ${inc.priority}` }, inc.priority),
      h('span', { class: `dot ${inc.light}`, title: lightName(inc.light) }),
      h('h2', {}, categoryName(ctx.categories, inc.category)),
      h('span', { class: 'state' }, stateName(inc.state)),
      h('button', { type: 'button', class: 'link close', onclick: () => ctx.closeDetail() }, t('close_panel'))),
    h('p', { class: 'desc' }, inc.description),
    h('dl', {},
      h('dt', {}, t('grid')), h('dd', {}, place || '—'),
      h('dt', {}, t('assignee')), h('dd', { class: 'assignee' }, inc.assignee_id || '—'),
      h('dt', {}, t('reported_at')), h('dd', {}, when(inc.first_reported_at)),
      h('dt', {}, t('source')), h('dd', {}, (inc.sources || []).map(sourceName).join('、'))),
    h('h3', {}, t('deadlines')), h('ul', { class: 'deadlines' }, deadlines),
    h('div', { class: 'actions' }, buttons),
    forms,
    h('h3', {}, t('reports')),
    h('ul', {}, d.reports.map((r) => h('li', {},
      `${sourceName(r.source)} ${r.source_ref} · ${when(r.received_at)} · `,
      r.reporter ? `${r.reporter.name || ''} ${r.reporter.phone || ''}` : '', h('br'), r.description))),
    h('h3', {}, t('tasks')),
    h('ul', {}, await Promise.all(d.tasks.map(async (task) => h('li', {},
      `${task.assignee_id} (${task.assignee_level}) · ${task.status}`,
      task.notes ? h('div', { class: 'note' }, task.notes) : null,
      task.photos && task.photos.length ? h('div', {}, await Promise.all(task.photos.map(photoThumb))) : null)))),
    h('h3', {}, t('events')),
    h('ol', { class: 'timeline' }, d.events.map((e) => h('li', {},
      `${when(e.at)} ${actionName(e.action)} → ${stateName(e.to_state)} · ${e.actor_role} ${e.actor_id}`,
      e.reason ? h('div', { class: 'muted' }, e.reason) : null))),
  );
  panel.hidden = false;
  panel.dataset.id = id;
}
