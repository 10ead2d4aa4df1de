// The detail view of one of the worker's tasks: the case, every report it covers, photos,
// labelled deadlines with a countdown, who to call on the desk above, the place on a small map
// (the grid's outline and the point, drawn from the API's WGS84 geometry: no tiles) with links
// that open Amap or Baidu at the right spot (the API converts to GCJ-02 / BD-09), and the
// extension request (延期) with its reason.
import { api, ApiError, newKey, session } from '../common/api.js';
import { h, clear, toast } from '../common/dom.js';
import { t, clockName, sourceName, stateName, categoryName, when, span, problemNode } from '../common/i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const EXTENSIONS = ['1d', '3d', '5d', '10d'];

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function smallMap(place) {
  // an equirectangular sketch of the grid, scaled by the cosine of the latitude
  const rings = place.grid_outline ? (place.grid_outline.type === 'MultiPolygon'
    ? place.grid_outline.coordinates.flat() : place.grid_outline.coordinates) : [];
  const pts = rings.flat().concat([[place.lon, place.lat]]);
  const k = Math.cos((place.lat * Math.PI) / 180);
  const xs = pts.map((p) => p[0] * k);
  const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const size = Math.max(x1 - x0, y1 - y0, 1e-4) * 1.15;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const px = (p) => `${(((p[0] * k - cx) / size) * 200 + 100).toFixed(1)},${((-(p[1] - cy) / size) * 200 + 100).toFixed(1)}`;
  const root = svg('svg', { viewBox: '0 0 200 200', class: 'mini-map', role: 'img', 'aria-label': place.address || '' });
  for (const ring of rings) root.append(svg('polygon', { points: ring.map(px).join(' '), class: 'grid-outline' }));
  const [mx, my] = px([place.lon, place.lat]).split(',');
  root.append(svg('circle', { cx: mx, cy: my, r: 6, class: 'task-point' }));
  return root;
}

async function photo(key) {
  const img = h('img', { class: 'thumb', alt: key });
  try {
    const r = await fetch(`/photos/${key}`, { headers: { Authorization: `Bearer ${session().token}` } });
    if (r.ok) img.src = URL.createObjectURL(await r.blob());
  } catch {
    /* the key stays as alt text */
  }
  return img;
}

function extensionForm(d, done) {
  const form = h('form', { class: 'stack act-form', dataset: { action: 'request_extension' } },
    h('label', {}, t('extension_reason'), h('textarea', { name: 'reason', rows: 2, required: true, maxlength: 2000 })),
    h('label', {}, t('extension_for'), h('select', { name: 'extension' }, EXTENSIONS.map((e) => h('option', { value: e }, e)))),
    h('button', { type: 'submit', class: 'primary' }, t('request_extension')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api(`/worker/tasks/${d.task.task_id}/request_extension`, {
        method: 'POST', key: newKey(), body: { reason: form.reason.value.trim(), extension: form.extension.value },
      });
      toast(`${t('sent')}：${t('request_extension')}`);
      done();
    } catch (e) {
      toast(problemNode(e), 'err');
    }
  });
  return form;
}

export async function showTask(panel, taskId, { categories, done }) {
  const d = await api(`/worker/tasks/${taskId}/detail`);
  const inc = d.incident;
  const slot = h('div');
  const deadlines = Object.entries(d.deadlines || {}).filter(([, c]) => c.deadline).map(([clock, c]) =>
    h('li', {}, `${clockName(clock)}：${when(c.deadline)}（${clockName(c.status)}）`,
      c.status === 'running' ? h('span', { class: 'countdown', dataset: { due: c.deadline } }) : null));
  const canExtend = ['accepted', 'on_site'].includes(inc.state);
  const photos = await Promise.all((d.task.photos || []).map(photo));
  clear(panel).append(...[
    h('header', { class: 'detail-head' },
      h('span', { class: `badge ${inc.priority}` }, inc.priority),
      h('b', {}, categoryName(categories, inc.category)),
      h('span', { class: 'state' }, stateName(inc.state)),
      h('button', { type: 'button', class: 'link close', onclick: () => { panel.hidden = true; } }, t('close_panel'))),
    h('p', { class: 'desc' }, inc.description),
    inc.address ? h('p', { class: 'muted' }, inc.address) : null,
    h('h3', {}, t('deadlines')), h('ul', { class: 'deadlines' }, deadlines.length ? deadlines : h('li', {}, t('no_due'))),
    d.place ? h('div', { class: 'place' }, smallMap(d.place),
      h('p', { class: 'map-links' },
        h('a', { href: d.place.amap, target: '_blank', rel: 'noopener', class: 'amap' }, t('open_amap')), ' · ',
        h('a', { href: d.place.baidu, target: '_blank', rel: 'noopener', class: 'baidu' }, t('open_baidu')))) : null,
    h('h3', {}, t('reports')),
    h('ul', { class: 'reports' }, d.reports.map((r) => h('li', {},
      `${sourceName(r.source)} · ${when(r.received_at)}`, h('br'), r.description,
      r.attachments.length ? h('div', { class: 'muted' }, r.attachments.join(' ')) : null))),
    photos.length ? h('div', { class: 'photos' }, photos) : null,
    h('h3', {}, t('contacts')),
    h('ul', { class: 'contacts' }, d.contacts.map((c) => h('li', {},
      `${t(c.role)} ${c.name} `, h('a', { href: `tel:${c.phone.replace(/[^0-9+]/g, '')}` }, c.phone)))),
    canExtend ? h('div', { class: 'buttons' }, h('button', { type: 'button', dataset: { action: 'request_extension' },
      onclick: () => clear(slot).append(extensionForm(d, done)) }, t('request_extension'))) : null,
    slot].filter(Boolean)); // Element.append would print a null
  panel.hidden = false;
  panel.dataset.task = taskId;
  for (const el of panel.querySelectorAll('.countdown')) {
    const left = (new Date(el.dataset.due) - Date.now()) / 1000;
    el.textContent = left >= 0 ? ` · ${t('left')} ${span(left)}` : '';
  }
}
