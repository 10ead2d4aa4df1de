// The resident's phone page (/r): no account. Report a problem (a category in plain words, a
// description, up to 3 photos shrunk on the phone, the device's location or a typed address),
// keep the tracking code it answers, follow the case's stages, and rate it once it is closed.
// The page's random device id (X-Device) is what the per-device limits count.
// With several districts (GET /r/districts) a typed address is looked up in the resident's own:
// the district a link names (/r?district=500107), else the one picked on the form, both kept on
// the device; an address several districts hold, with none chosen, asks which is theirs.
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
const DISTRICT_KEY = 'yiwang.resident.district';
const MAX_PHOTOS = 3;
let categories = [];
let reasons = []; // the 不满意 reasons of config/revisits.toml (GET /r/reasons)
let shown = null; // () => the current view, drawn again on a language switch
let districts = []; // {code, name} of GET /r/districts: the picker when there are several
let district = null; // the resident's district code, when known

function chooseDistrict(code) {
  district = districts.some((d) => d.code === code) ? code : null;
  if (district) localStorage.setItem(DISTRICT_KEY, district);
}

function knownDistrict() {
  if (districts.length === 1) return districts[0].code;
  const linked = new URLSearchParams(location.search).get('district');
  if (linked && districts.some((d) => d.code === linked)) {
    localStorage.setItem(DISTRICT_KEY, linked);
    return linked;
  }
  const kept = localStorage.getItem(DISTRICT_KEY);
  return districts.some((d) => d.code === kept) ? kept : null;
}

const districtName = (code) => (districts.find((d) => d.code === code) || {}).name || '';

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
  const preview = h('div', { class: 'preview', id: 'preview' });
  // the place on the grid map before sending: GET /r/place (its grid and community, nothing else);
  // a typed address is looked up in the resident's district when it is known; only the latest
  // lookup draws (an answer to an earlier one, for another district or place, arriving last is dropped)
  let lookups = 0;
  const lookup = async (params) => {
    const mine = ++lookups;
    const asked = params.address && district ? { ...params, district } : params;
    const query = new URLSearchParams(asked).toString();
    try {
      const p = await api(`/r/place?${query}`, { headers: device() });
      if (mine !== lookups) return;
      const names = [districts.length > 1 ? districtName(p.district_code) : '', p.street, p.community, p.grid];
      clear(preview).append(h('p', { id: 'preview-names', dataset: { grid: p.grid_code, district: p.district_code } },
        h('b', {}, r('where')), ' ', names.filter(Boolean).join(' · ')), placeMap(p));
      preview.dataset.grid = p.grid_code;
    } catch (e) {
      if (mine !== lookups) return;
      delete preview.dataset.grid;
      if (!(e instanceof ApiError) || e.status !== 422) {
        clear(preview).append(h('p', { class: 'muted', id: 'preview-none' }, e.message));
      } else if (e.body.code === 'ambiguous' && districts.length > 1) {
        clear(preview).append(whichDistrict(() => lookup(params)));
      } else {
        const text = e.body.code === 'not_found' && asked.district && districts.length > 1 ? r('not_found_in').replace('{name}', districtName(asked.district)) : r('not_placed');
        clear(preview).append(h('p', { class: 'muted', id: 'preview-none', dataset: { code: e.body.code || '' } }, text));
      }
    }
  };
  // the resident's district, asked when there are several: picked here or answered to the question
  const picker = districts.length > 1 ? h('label', { id: 'district' }, r('district'), h('select', { name: 'district' },
    h('option', { value: '' }, r('district_pick')),
    districts.map((d) => h('option', { value: d.code, selected: d.code === district }, d.name)))) : null;
  const whichDistrict = (again) => h('div', { class: 'which', id: 'which' }, h('p', {}, h('b', {}, r('which_district'))),
    h('div', { class: 'buttons' }, districts.map((d) => {
      const b = h('button', { type: 'button', dataset: { code: d.code } }, d.name);
      b.addEventListener('click', () => {
        chooseDistrict(d.code);
        if (picker) picker.querySelector('select').value = d.code;
        again();
      });
      return b;
    })));
  const form = h('form', { class: 'stack card', id: 'report' },
    h('label', {}, r('what'), h('select', { name: 'category', required: true },
      categories.map((c) => h('option', { value: c.code }, lang() === 'en' ? c.en : c.zh)))),
    h('label', {}, r('describe'), h('textarea', { name: 'description', required: true, maxlength: 2000, rows: 3, placeholder: r('describe_hint') })),
    h('label', {}, r('photos'), h('input', { name: 'photos', type: 'file', accept: 'image/*', multiple: true })),
    h('fieldset', { class: 'place' }, h('legend', {}, r('place')),
      h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'locate' }, r('locate')), status),
      picker,
      h('label', {}, r('address'), h('input', { name: 'address', maxlength: 200, placeholder: r('address_hint') })),
      h('button', { type: 'button', id: 'find' }, r('find')), preview),
    h('button', { type: 'submit', class: 'primary' }, r('send')));
  $('#locate', form).addEventListener('click', () => {
    if (!navigator.geolocation) return toast(r('locate_failed'), 'err');
    navigator.geolocation.getCurrentPosition((pos) => {
      Object.assign(place, { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy_m: pos.coords.accuracy });
      status.textContent = `${r('located')} ±${Math.round(pos.coords.accuracy)} m`;
      lookup({ lon: place.lon, lat: place.lat });
    }, () => toast(r('locate_failed'), 'err'), { enableHighAccuracy: true, timeout: 15000 });
  });
  if (picker) {
    picker.querySelector('select').addEventListener('change', (ev) => {
      chooseDistrict(ev.target.value);
      const address = form.address.value.trim();
      if (address && place.lon === null) lookup({ address });
    });
  }
  $('#find', form).addEventListener('click', () => {
    const address = form.address.value.trim();
    if (address) lookup({ address });
  });
  form.address.addEventListener('change', () => {
    const address = form.address.value.trim();
    if (address && place.lon === null) lookup({ address });
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
      if (address && district) body.district = district; // the typed address is looked up in it
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
  if (report.visit === 'not_reached') {
    view.append(h('p', { class: 'card note', id: 'visit', dataset: { visit: report.visit } }, r('not_reached')));
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
  [categories, reasons, districts] = (await Promise.all([api('/r/categories'), api('/r/reasons'), api('/r/districts')])).map((x) => x.items);
  district = knownDistrict();
  const code = location.hash.slice(1) || localStorage.getItem(CODE_KEY);
  if (code) await showTracking(code).catch((e) => { console.error(e); showForm(); });
  if (!shown) showForm();
}

main().catch(fail);
