// One case in full: who holds it (name, force, phone, on shift), where it is, the time left on
// each clock, every report it covers (reporters masked; an operator may reveal one to call
// back, and the reveal is recorded), the tasks, notices and timeline, and the operator actions
// the API says are possible in its state. Reassigning picks from the people the routing rule
// would consider (GET …/candidates); merging from the open cases of the same problem nearby.
import { api, newKey, session } from '../common/api.js';
import { h, clear, toast } from '../common/dom.js';
import {
  t, lang, stateName, actionName, lightName, sourceName, levelName, clockName, categoryName, when, deskName,
  noticeKind, noticeState, roleName, taskStatus, span, problemNode,
} from '../common/i18n.js';

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

const metres = (d) => (d === null || d === undefined ? '—' : `${Math.round(d)} ${t('metres')}`);
const roleOf = (p) => (lang() === 'en' ? p.role_en || p.force_en : p.role_zh || p.force_zh);

async function assigneePicker() {
  return h('label', {}, t('pick_assignee'), h('select', { name: 'assignee' }, h('option', { value: '' }, t('router_choice'))));
}

async function fillPicker(form, inc) {
  const select = form.querySelector('select[name=assignee]');
  const picks = await api(`/incidents/${inc.incident_id}/candidates`);
  for (const p of picks.filter((x) => !x.current)) {
    select.append(h('option', { value: p.worker_id, dataset: { rule: p.rule } },
      `${p.name || p.worker_id} · ${roleOf(p)} · ${levelName(p.rule)} · ${t('open_tasks')} ${p.open_tasks} · ${metres(p.distance_m)}`));
  }
  if (select.options.length === 1) form.prepend(h('p', { class: 'muted' }, t('no_one_on_shift')));
}

async function mergePicker(inc, categories) {
  const found = await api(`/incidents/${inc.incident_id}/merge-suggestions`);
  if (!found.length) return h('p', { class: 'muted no-merge' }, t('no_merge'));
  return h('label', {}, t('merge_suggestions'), h('select', { name: 'merged_into', required: true },
    found.map((o) => h('option', { value: o.incident_id },
      `${o.priority} ${categoryName(categories, o.category)} · ${stateName(o.state)} · ${metres(o.distance_m)} · ${o.description.slice(0, 20)}`))));
}

async function actionForm(d, action, needsReason, done, ctx) {
  const inc = d.incident;
  const form = h('form', { class: 'action-form stack', dataset: { action } });
  if (action === 'reassign' || action === 'dispatch') {
    form.append(await assigneePicker());
    await fillPicker(form, inc);
  }
  if (action === 'merge') form.append(await mergePicker(inc, ctx.categories));
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
      toast(problemNode(e), 'err');
      button.disabled = false;
    }
  });
  return form;
}

function noticeItem(n) {
  return h('li', { dataset: { notice: n.notice_id, state: n.state } },
    `${deskName(n.desk)} · ${noticeKind(n.kind)} · `, h('b', { class: 'nstate' }, noticeState(n.state)),
    ` · ${when(n.created_at)}`,
    n.answer ? h('div', { class: 'note' }, `${n.answer}（${when(n.answer_due)}）`) : null);
}

function person(p, id) {
  if (!p) return id || '—';
  const shift = p.on_shift === true ? 'on_shift' : p.on_shift === false ? 'off_shift' : 'shift_unknown';
  return [h('b', { class: 'name' }, p.name), ` · ${lang() === 'en' ? p.force_en : p.force_zh} · `,
    h('a', { class: 'phone', href: `tel:${p.phone}` }, p.phone), ' ',
    h('span', { class: `shift ${shift}`, dataset: { shift } }, t(shift))];
}

function clockLine(clock, c) {
  let left = '';
  if (c.deadline && c.status === 'running') {
    const s = (new Date(c.deadline).getTime() - Date.now()) / 1000;
    left = s >= 0 ? `${t('time_left_clock')} ${span(s)}` : `${t('time_over_clock')} ${span(s)}`;
  }
  return h('li', { dataset: { clock, provisional: String(Boolean(c.provisional)) } },
    `${clockName(clock)}：${c.deadline ? when(c.deadline) : '—'}（${clockName(c.status)}）`,
    left ? h('b', { class: 'left' }, ` ${left}`) : null,
    c.provisional && h('span', { class: 'provisional', title: t('provisional_why') }, t('provisional')));
}

function reporterLine(d, r) {
  if (!r.reporter) return null;
  const who = h('span', { class: 'who' }, `${t('reporter')}：${r.reporter.name || (r.reporter.anonymous ? t('anonymous') : '—')} ${r.reporter.phone || ''}`);
  if (!r.reporter.phone) return who;
  const button = h('button', { type: 'button', class: 'link reveal', dataset: { report: r.report_id } }, t('reveal'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const shown = await api(`/incidents/${d.incident.incident_id}/reports/${r.report_id}/reveal`, { method: 'POST' });
      who.replaceChildren(`${t('reporter')}：${shown.name || '—'} `, h('a', { class: 'phone', href: `tel:${shown.phone}` }, shown.phone));
      button.replaceWith(h('span', { class: 'muted revealed' }, ` ${t('revealed')}`));
    } catch (e) {
      toast(problemNode(e), 'err');
      button.disabled = false;
    }
  });
  return [who, ' ', button];
}

// what happened, in the page's language: a system step from its structured data, never the
// English reason the router or the tracker wrote for the log
function eventLine(e) {
  const who = e.actor_role === 'system'
    ? t('system_actor') : [`${roleName(e.actor_role)} `, h('span', { translate: 'no' }, e.actor_id)];
  const esc = e.data && e.data.escalation;
  const what = esc ? `${actionName(e.action)} · ${t(`step_${esc.step}`)} → ${levelName(esc.level)}` : actionName(e.action);
  const reason = e.actor_role === 'system' ? null : e.reason;
  return h('li', {}, `${when(e.at)} ${what} → ${stateName(e.to_state)} · `, who,
    reason ? h('div', { class: 'muted' }, reason) : null);
}

async function taskLine(task, people) {
  const p = people[task.assignee_id];
  return h('li', { dataset: { task: task.task_id } },
    `${p ? p.name : task.assignee_id} · ${levelName(task.assignee_level)} · ${taskStatus(task.status)} · ${when(task.created_at)}`,
    // the router's own words for its log, in English with its codes: shown on the English page only
    lang() === 'en' ? h('div', { class: 'muted routing-reason', translate: 'no' }, task.routing_reason) : null,
    task.notes ? h('div', { class: 'note' }, task.notes) : null,
    task.photos && task.photos.length ? h('div', {}, await Promise.all(task.photos.map(photoThumb))) : null);
}

export async function showDetail(panel, id, ctx) {
  const [d, notices] = await Promise.all([api(`/incidents/${id}`), api(`/incidents/${id}/notices`)]);
  const inc = d.incident;
  const people = d.people || {};
  const reload = () => { ctx.changed(); showDetail(panel, id, { ...ctx, action: null }); };
  const forms = h('div', { class: 'forms' });
  const buttons = d.actions.map((a) => h('button', {
    type: 'button', class: 'act', dataset: { action: a.action },
    onclick: async () => {
      clear(forms).append(await actionForm(d, a.action, a.reason, reload, ctx));
      forms.querySelector('select, textarea, input')?.focus();
    },
  }, actionName(a.action)));
  const place = [ctx.nameOf(inc.street_code), ctx.nameOf(inc.community_code), ctx.nameOf(inc.grid_code)].filter(Boolean).join(' / ');
  clear(panel).append(
    h('header', { class: 'detail-head' },
      h('span', { class: `badge ${inc.priority}` }, inc.priority),
      h('span', { class: `dot ${inc.light}`, title: lightName(inc.light) }),
      h('h2', {}, categoryName(ctx.categories, inc.category)),
      h('span', { class: 'state' }, stateName(inc.state)),
      h('a', { class: 'deep-link', href: `/board#case=${inc.incident_id}` }, t('copy_link')),
      h('button', { type: 'button', class: 'link close', onclick: () => ctx.closeDetail() }, t('close_panel'))),
    h('p', { class: 'desc' }, inc.description),
    h('dl', {},
      h('dt', {}, t('grid')), h('dd', {}, place || '—'),
      h('dt', {}, t('address')), h('dd', { class: 'address' }, inc.address || '—'),
      h('dt', {}, t('assignee')), h('dd', { class: 'assignee', dataset: { id: inc.assignee_id || '' } }, person(people[inc.assignee_id], inc.assignee_id)),
      h('dt', {}, t('reported_at')), h('dd', {}, when(inc.first_reported_at)),
      h('dt', {}, t('source')), h('dd', {}, (inc.sources || []).map(sourceName).join('、'))),
    h('h3', {}, t('deadlines')), h('ul', { class: 'deadlines' }, Object.entries(inc.deadlines || {}).map(([c, v]) => clockLine(c, v))),
    h('div', { class: 'actions' }, buttons),
    forms,
    h('h3', {}, `${t('reports')}（${d.reports.length}）`),
    h('ul', { class: 'reports' }, d.reports.map((r) => h('li', { dataset: { report: r.report_id } },
      `${sourceName(r.source)} ${r.source_ref} · ${when(r.received_at)}`, h('br'),
      reporterLine(d, r), r.address ? h('div', { class: 'muted' }, r.address) : null,
      h('div', {}, r.description)))),
    h('h3', {}, t('tasks')),
    h('ul', { class: 'tasks' }, await Promise.all(d.tasks.map((task) => taskLine(task, people)))),
    h('h3', {}, t('notices')),
    h('ul', { class: 'case-notices' }, notices.items.length ? notices.items.map(noticeItem) : h('li', { class: 'muted' }, t('nothing'))),
    h('h3', {}, t('events')),
    h('ol', { class: 'timeline' }, d.events.map(eventLine)),
  );
  panel.hidden = false;
  panel.dataset.id = id;
  // opened for one action (the triage list's 立案 / 不予立案): its form at once
  const wanted = ctx.action && buttons.find((b) => b.dataset.action === ctx.action);
  if (wanted) wanted.click();
}
