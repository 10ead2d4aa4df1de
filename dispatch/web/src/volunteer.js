// The volunteer's phone page (/v): log in or register (the community approves); my community's
// volunteer tasks — claim, report done with a photo (shrunk on the phone) — my points, the
// community's leaderboard, the catalogue and my redemptions. Nothing personal about residents
// is ever sent here: a task is its category, place and claim.
import './common/base.css';
import './volunteer.css';
import { api, ApiError, newKey, saveSession, session } from './common/api.js';
import { h, $, $$, clear, toast } from './common/dom.js';
import { categoryName, toggle, when, problemNode } from './common/i18n.js';
import { shrink } from './common/photo.js';
import { applyStrings, v } from './volunteer/strings.js';

const KEY = 'yiwang.session';
let categories = {};
let tab = 'tasks';
let balance = 0;

function me() {
  const s = session();
  return s && s.role === 'volunteer' ? s : null;
}

function fail(e) {
  toast(problemNode(e), 'err');
}

// --- logging in and registering ---------------------------------------------------------
async function showAuth() {
  $('#app').hidden = true;
  $('#logout').hidden = true;
  const box = clear($('#auth'));
  box.hidden = false;
  const login = h('form', { class: 'stack card', id: 'login' },
    h('h2', {}, v('login')),
    h('label', {}, v('phone'), h('input', { name: 'phone', inputmode: 'numeric', required: true, maxlength: 11 })),
    h('label', {}, v('pin'), h('input', { name: 'pin', type: 'password', inputmode: 'numeric', required: true, maxlength: 8 })),
    h('button', { type: 'submit', class: 'primary' }, v('login')));
  login.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const answer = await api('/volunteer/login', { method: 'POST', body: { phone: login.phone.value.trim(), pin: login.pin.value } });
      saveSession(answer);
      await showApp();
    } catch (e) {
      toast(`${v('login_failed')}：${e.message}`, 'err');
    }
  });
  const communities = await api('/volunteer/communities');
  const register = h('form', { class: 'stack card', id: 'register' },
    h('h2', {}, v('register')),
    h('label', {}, v('name'), h('input', { name: 'name', required: true, maxlength: 40 })),
    h('label', {}, v('phone'), h('input', { name: 'phone', inputmode: 'numeric', required: true, maxlength: 11 })),
    h('label', {}, v('community'), h('select', { name: 'community', required: true },
      communities.map((c) => h('option', { value: c.code }, c.name)))),
    h('label', {}, v('skills'), h('input', { name: 'skills', maxlength: 200 })),
    h('label', {}, v('pin'), h('input', { name: 'pin', type: 'password', inputmode: 'numeric', required: true, maxlength: 8 })),
    h('button', { type: 'submit' }, v('register')));
  register.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const skills = register.skills.value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
    try {
      await api('/volunteer/register', { method: 'POST', body: {
        name: register.name.value.trim(), phone: register.phone.value.trim(),
        community_code: register.community.value, skills, pin: register.pin.value,
      } });
      register.reset();
      toast(v('registered'));
    } catch (e) {
      fail(e);
    }
  });
  box.append(login, register);
  document.body.dataset.ready = 'auth';
}

// --- tasks ------------------------------------------------------------------------------
function resolveForm(task) {
  const form = h('form', { class: 'stack act-form', dataset: { action: 'resolve' } },
    h('label', {}, v('note'), h('textarea', { name: 'note', rows: 3, required: true, maxlength: 2000 })),
    h('label', {}, v('photo'), h('input', { name: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment' })),
    h('button', { type: 'submit', class: 'primary' }, v('submit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = form.photo.files[0];
    if (!file) return toast(v('need_photo'), 'err');
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      toast(v('uploading'));
      const data = new FormData();
      data.append('photo', await shrink(file), 'photo.jpg');
      const photo = await api('/volunteer/photos', { method: 'POST', form: data });
      await api(`/volunteer/tasks/${task.incident_id}/resolve`, {
        method: 'POST', key: newKey(), body: { note: form.note.value.trim(), photos: [photo.key] },
      });
      toast(v('resolved'));
      await render();
    } catch (e) {
      fail(e);
      button.disabled = false;
    }
    return null;
  });
  return form;
}

function taskCard(task) {
  const slot = h('div', { class: 'slot' });
  let action = null;
  let status = null;
  if (task.status === 'offered') {
    action = h('button', { type: 'button', class: 'primary', dataset: { action: 'claim' }, onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await api(`/volunteer/tasks/${task.incident_id}/claim`, { method: 'POST' });
        await render();
      } catch (e) {
        fail(e);
        ev.target.disabled = false;
      }
    } }, v('claim'));
  } else if (task.status === 'claimed' && task.mine) {
    status = `${v('claimed_until')} ${when(task.lapses_at)}`;
    action = h('button', { type: 'button', class: 'primary', dataset: { action: 'resolve' },
      onclick: () => clear(slot).append(resolveForm(task)) }, v('do_resolve'));
  } else {
    status = v(task.status) + (task.status === 'verified' && task.on_time ? ` · ${v('on_time')}` : '');
  }
  return h('article', { class: `vtask ${task.status}`, dataset: { incident: task.incident_id, status: task.status } },
    h('header', {},
      h('span', { class: `badge ${task.priority}` }, task.priority),
      h('b', {}, categoryName(categories, task.category)),
      task.handed_by ? h('span', { class: 'tag' }, v('handed')) : null),
    task.address ? h('p', { class: 'muted' }, task.address) : null,
    h('p', { class: 'muted where' }, `${when(task.reported_at)}${task.grid_code ? ` · ${v('grid')} ${task.grid_code}` : ''}`),
    status ? h('p', { class: 'vstatus' }, status) : null,
    action ? h('div', { class: 'buttons' }, action) : null,
    slot);
}

async function tasksView(box) {
  const answer = await api('/volunteer/tasks');
  box.append(...(answer.items.length ? answer.items.map(taskCard) : [h('p', { class: 'muted empty' }, v('no_tasks'))]));
}

// --- points -----------------------------------------------------------------------------
async function pointsView(box) {
  const [statement, board] = await Promise.all([api('/volunteer/statement'), api('/volunteer/leaderboard')]);
  const kind = (k) => v(k === 'redeem' ? 'redeem_entry' : k);
  box.append(
    h('p', { class: 'year' }, `${v('earned_year')} `, h('b', { id: 'earned' }, String(statement.earned_this_year))),
    h('h2', {}, v('statement')),
    statement.lines.length
      ? h('table', { class: 'lines' }, h('tbody', {}, [...statement.lines].reverse().map((l) => h('tr', { dataset: { kind: l.kind } },
        h('td', {}, when(l.at)), h('td', {}, kind(l.kind)),
        h('td', { class: l.points > 0 ? 'plus' : 'minus' }, l.points > 0 ? `+${l.points}` : String(l.points)),
        h('td', { class: 'muted' }, String(l.balance))))))
      : h('p', { class: 'muted' }, v('no_entries')),
    h('h2', {}, v('leaderboard')),
    h('ol', { class: 'board' }, board.items.map((s) => h('li', { class: s.volunteer_id === me().sub ? 'me' : '' },
      h('span', { class: 'rank' }, String(s.rank)), h('span', {}, s.name), h('b', {}, String(s.points))))));
}

// --- redeeming --------------------------------------------------------------------------
async function shopView(box) {
  const [catalogue, mine] = await Promise.all([api('/volunteer/catalogue'), api('/volunteer/redemptions')]);
  const names = Object.fromEntries(catalogue.items.map((i) => [i.item_id, i]));
  const english = document.documentElement.lang === 'en';
  const nameOf = (id) => (names[id] ? (english ? names[id].en : names[id].zh) : id);
  box.append(
    h('h2', {}, v('catalogue')),
    ...catalogue.items.map((item) => h('article', { class: 'item', dataset: { item: item.item_id } },
      h('div', {}, h('b', {}, english ? item.en : item.zh),
        h('p', { class: 'muted' }, `${v(`kind_${item.kind}`)} · ${v('stock')} ${item.stock}`)),
      h('button', {
        type: 'button', class: 'primary', dataset: { action: 'redeem' },
        disabled: item.stock <= 0 || item.cost > balance,
        onclick: async (ev) => {
          ev.target.disabled = true;
          try {
            await api('/volunteer/redemptions', { method: 'POST', body: { item_id: item.item_id, request_id: newKey() } });
            toast(v('redeemed'));
            await render();
          } catch (e) {
            fail(e);
            ev.target.disabled = false;
          }
        },
      }, `${item.cost} ${v('points')} · ${v('redeem')}`))),
    h('h2', {}, v('my_redemptions')),
    h('ul', { class: 'mine' }, mine.items.map((r) => h('li', { dataset: { status: r.status } },
      nameOf(r.item_id), ' · ', v(r.status), ' · ', when(r.created_at)))));
}

// --- the page ---------------------------------------------------------------------------
const VIEWS = { tasks: tasksView, points: pointsView, shop: shopView };

async function render() {
  const profile = await api('/volunteer/me');
  balance = profile.balance;
  $('#balance').textContent = String(balance);
  $('#who').textContent = ` · ${profile.name}`;
  for (const b of $$('.vtab')) b.classList.toggle('active', b.dataset.tab === tab);
  const box = clear($('#view'));
  await VIEWS[tab](box);
  document.body.dataset.ready = tab;
}

async function showApp() {
  $('#auth').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  categories = await api('/reference/categories');
  await render();
}

function main() {
  applyStrings();
  $('#lang').addEventListener('click', () => {
    toggle();
    applyStrings();
    if (me()) render().catch(fail); else showAuth().catch(fail);
  });
  $('#logout').addEventListener('click', () => {
    localStorage.removeItem(KEY);
    showAuth().catch(fail);
  });
  for (const b of $$('.vtab')) {
    b.addEventListener('click', () => {
      tab = b.dataset.tab;
      render().catch(fail);
    });
  }
  (me() ? showApp() : showAuth()).catch(fail);
}

main();
