// The resident's phone page (/r): no account. Report a problem (a category in plain words, a
// description, up to 3 photos shrunk on the phone, the device's location or a typed address),
// keep the tracking code it answers, follow the case's stages, and rate it once it is closed.
// The page's random device id (X-Device) is what the per-device limits count.
import './common/base.css';
import './resident.css';
import { api, ApiError } from './common/api.js';
import { h, $, clear, toast } from './common/dom.js';
import { lang, toggle, when, problemNode } from './common/i18n.js';
import { shrink } from './common/photo.js';
import { placeMap } from './resident/map.js';
import { applyStrings, r } from './resident/strings.js';

const DEVICE_KEY = 'yiwang.resident.device';
const CODE_KEY = 'yiwang.resident.code';
const MAX_PHOTOS = 3;
let categories = [];
let reasons = []; // the 不满意 reasons of config/revisits.toml (GET /r/reasons)
let shown = null; // () => the current view, drawn again on a language switch

function device() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, '0')).join('');
    localStorage.setItem(DEVICE_KEY, id);
  }
  return { 'X-Device': id };
}

function fail(e) {
  toast(problemNode(e), 'err');
}

function ready(name) {
  document.body.dataset.ready = name;
}

// --- reporting -----------------------------------------------------------------------------
function showForm() {
  shown = showForm;
  const place = { lon: null, lat: null, accuracy_m: null };
  const status = h('span', { class: 'muted', id: 'located' });
  const form = h('form', { class: 'stack card', id: 'report' },
    h('label', {}, r('what'), h('select', { name: 'category', required: true },
      categories.map((c) => h('option', { value: c.code }, lang() === 'en' ? c.en : c.zh)))),
    h('label', {}, r('describe'), h('textarea', { name: 'description', required: true, maxlength: 2000, rows: 3, placeholder: r('describe_hint') })),
    h('label', {}, r('photos'), h('input', { name: 'photos', type: 'file', accept: 'image/*', multiple: true })),
    h('fieldset', { class: 'place' }, h('legend', {}, r('place')),
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'locate' }, r('locate')), status),
      h('label', {}, r('address'), h('input', { name: 'address', maxlength: 200, placeholder: r('address_hint') }))),
    h('button', { type: 'submit', class: 'primary' }, r('send')));
  $('#locate', form).addEventListener('click', () => {
    if (!navigator.geolocation) return toast(r('locate_failed'), 'err');
    navigator.geolocation.getCurrentPosition((pos) => {
      Object.assign(place, { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy_m: pos.coords.accuracy });
      status.textContent = `${r('located')} ±${Math.round(pos.coords.accuracy)} m`;
    }, () => toast(r('locate_failed'), 'err'), { enableHighAccuracy: true, timeout: 15000 });
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const files = Array.from(form.photos.files);
    if (files.length > MAX_PHOTOS) return toast(r('too_many_photos'), 'err');
    const address = form.address.value.trim();
    if (place.lon === null && !address) return toast(r('need_place'), 'err');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    button.textContent = r('sending');
    try {
      const photos = [];
      for (const file of files) {
        const data = new FormData();
        data.append('photo', await shrink(file), 'photo.jpg');
        photos.push((await api('/r/photos', { method: 'POST', form: data, headers: device() })).key);
      }
      const body = { category: form.category.value, description: form.description.value.trim(), photos };
      if (place.lon !== null) Object.assign(body, place);
      if (address) body.address = address;
      const got = await api('/r/reports', { method: 'POST', body, headers: device() });
      localStorage.setItem(CODE_KEY, got.code);
      await showTracking(got.code);
    } catch (e) {
      fail(e);
      button.disabled = false;
      button.textContent = r('send');
    }
  });
  const follow = h('form', { class: 'stack card', id: 'follow' },
    h('label', {}, r('follow'), h('input', { name: 'code', required: true, maxlength: 20, placeholder: 'R-XXXXXXXX-XXXXXX', translate: 'no', autocapitalize: 'characters' })),
    h('button', { type: 'submit' }, r('follow')));
  follow.addEventListener('submit', (ev) => {
    ev.preventDefault();
    showTracking(follow.code.value.trim().toUpperCase()).catch(fail);
  });
  clear($('#view')).append(form, follow);
  ready('form');
}

// --- following and rating ------------------------------------------------------------------
async function showTracking(code) {
  let report;
  try {
    report = await api(`/r/reports/${encodeURIComponent(code)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return toast(r('not_found'), 'err');
    throw e;
  }
  shown = () => showTracking(code).catch(fail);
  const view = clear($('#view'));
  view.append(h('section', { class: 'card code', id: 'code' },
    h('p', { class: 'muted' }, r('your_code')), h('b', { dataset: { code } }, code)));
  if (report.joined) view.append(h('p', { class: 'card note', id: 'joined' }, r('joined')));
  if (report.place && report.place.grid_code) {
    const p = report.place;
    view.append(h('section', { class: 'card place-card', id: 'place', dataset: { grid: p.grid_code } },
      h('p', {}, h('b', {}, r('where')), ' ', [p.street, p.community, p.grid].filter(Boolean).join(' · ')),
      placeMap(p)));
  }
  view.append(h('ol', { class: 'timeline card', id: 'timeline' },
    report.timeline.map((s) => h('li', { dataset: { stage: s.stage } }, h('b', {}, r(s.stage)), h('span', { class: 'muted' }, when(s.at))))));
  if (report.rating) {
    view.append(h('p', { class: 'card', id: 'rating', dataset: { answer: report.rating } }, `${r('rated')}：${r(report.rating)}`));
  }
  if (report.can_rate) view.append(rateForm(code));
  const again = h('button', { type: 'button', id: 'again' }, r('new_report'));
  again.addEventListener('click', () => showForm());
  view.append(again);
  ready(report.can_rate ? 'rate' : 'tracking');
}

function rateForm(code) {
  const why = h('div', { class: 'reasons', hidden: true },
    h('label', {}, r('why'), h('select', { name: 'reason_code' },
      reasons.map((c) => h('option', { value: c.code }, lang() === 'en' ? c.en : c.zh)))),
    h('label', {}, r('more'), h('textarea', { name: 'reason', maxlength: 500, rows: 2 })));
  const form = h('form', { class: 'stack card', id: 'rate' }, h('b', {}, r('rate')),
    h('div', { class: 'answers' }, ['satisfied', 'basically_satisfied', 'dissatisfied'].map((a) =>
      h('label', {}, h('input', { type: 'radio', name: 'answer', value: a, required: true }), r(a)))),
    why,
    h('button', { type: 'submit', class: 'primary' }, r('rate_send')));
  form.addEventListener('change', () => { why.hidden = form.answer.value !== 'dissatisfied'; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { answer: form.answer.value };
    if (body.answer === 'dissatisfied') {
      body.reason_code = form.reason_code.value;
      if (form.reason.value.trim()) body.reason = form.reason.value.trim();
    }
    try {
      const got = await api(`/r/reports/${encodeURIComponent(code)}/rating`, { method: 'POST', body });
      toast(got.reopened ? r('reopened_note') : r('thanks'));
      await showTracking(code);
    } catch (e) {
      fail(e);
    }
  });
  return form;
}

async function main() {
  applyStrings();
  $('#lang').addEventListener('click', () => {
    toggle();
    applyStrings();
    if (shown) shown();
  });
  [categories, reasons] = (await Promise.all([api('/r/categories'), api('/r/reasons')])).map((x) => x.items);
  const code = location.hash.slice(1) || localStorage.getItem(CODE_KEY);
  if (code) await showTracking(code).catch(() => showForm());
  if (!shown) showForm();
}

main().catch(fail);
