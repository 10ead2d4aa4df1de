// Surge areas on the board: the grids an active warning covers, hatched over the map, and a
// banner per surge with its counts (GET /surges: its KPI split). Drawn in a layer of its own
// above the grids, so the map's own shading is untouched. A district operator also declares one
// here (SurgeDraw): draws it (click the corners, double-click or 完成 to close the ring) or picks
// it (click grids on the map, or choose a whole street), picks the warning from the policies
// GET /surges/policies offers, POST /surges; and ends one from its banner. A street operator's
// board has neither tool (the API refuses them too).
import './surge.css';
import { api } from '../common/api.js';
import { h, clear, toast } from '../common/dom.js';
import { lang, problemNode } from '../common/i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const WORDS = {
  zh: {
    grids: '网格', opened: '新增', open: '在办', overdue: '超期', raised: '已提级', until: '至', limits: '时限×',
    end: '解除', ended: '已解除', draw: '划定预警区域', drawing: '在地图上依次点击区域各角，双击或点“完成”闭合',
    finish: '完成', cancel: '取消', warning: '预警', starts: '开始', ends: '结束', declare: '发布预警',
    declared: '已发布', corners: '个角点', need3: '至少点三个角',
    pick: '选择网格或街道', picking: '在地图上点击网格以选中或取消，或选择整个街道', picked: '个网格',
    street: '整个街道', none: '（按所选网格）',
  },
  en: {
    grids: 'grids', opened: 'new', open: 'open', overdue: 'overdue', raised: 'raised', until: 'until', limits: 'limits ×',
    end: 'End', ended: 'Ended', draw: 'Draw a warning area', drawing: 'Click the corners of the area on the map; double-click or Finish to close it',
    finish: 'Finish', cancel: 'Cancel', warning: 'Warning', starts: 'Starts', ends: 'Ends', declare: 'Declare',
    declared: 'Declared', corners: 'corners', need3: 'Click at least three corners',
    pick: 'Pick grids or a street', picking: 'Click grids on the map to pick or drop them, or choose a whole street',
    picked: 'grids', street: 'Whole street', none: '(the grids picked)',
  },
};
const w = (key) => (WORDS[lang()] || WORDS.zh)[key];

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' });
}

// a datetime-local input's value for a moment (the browser's own clock and zone)
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export class SurgeLayer {
  // district: the caller may declare and end surges (a street operator's board has no tool)
  constructor(map, pane, { district = false } = {}) {
    this.map = map;
    this.district = district;
    this.surges = [];
    this.g = document.createElementNS(NS, 'g');
    this.g.setAttribute('class', 'surge-layer');
    map.gGrids.after(this.g);
    this.banner = h('div', { id: 'surge-banner', class: 'surge-banner', hidden: true, role: 'status' });
    pane.prepend(this.banner);
    if (district) this.drawTool = new SurgeDraw(map, pane, () => this.refresh());
  }

  async refresh() {
    if (this.drawTool) await this.drawTool.load();
    const doc = await api('/surges?hours=0');
    this.surges = doc.items.filter((s) => s.status === 'active');
    this.draw();
  }

  // which surge covers each grid (the strongest first: the API lists the newest first)
  covering() {
    const out = new Map();
    for (const s of this.surges) for (const code of s.grids) if (!out.has(code)) out.set(code, s);
    return out;
  }

  // the map zoomed onto a surge's grids (a click on its banner)
  zoomTo(s) {
    const features = s.grids.map((code) => this.map.grids.get(code)).filter(Boolean);
    if (features.length) this.map.zoomTo({ type: 'FeatureCollection', features }, 0.5);
  }

  draw() {
    const paths = [];
    for (const [code, s] of this.covering()) {
      const f = this.map.grids.get(code);
      if (!f) continue;
      const p = document.createElementNS(NS, 'path');
      p.setAttribute('d', this.map.path(f));
      p.setAttribute('class', `surge-grid level-${s.level}`);
      p.setAttribute('data-code', code);
      p.setAttribute('data-surge', s.surge_id);
      paths.push(p);
    }
    this.g.replaceChildren(...paths);
    if (this.drawTool) this.drawTool.relabel();
    this.banner.hidden = !this.surges.length;
    clear(this.banner).append(...this.surges.map((s) => h('div', {
      class: `surge level-${s.level}`, dataset: { surge: s.surge_id }, onclick: () => this.zoomTo(s),
    },
      h('b', {}, s.name),
      h('span', {}, ` ${s.title !== s.name ? s.title : ''}`),
      h('span', { class: 'counts' },
        ` · ${s.grids.length} ${w('grids')} · ${w('opened')} ${s.kpi.opened} · ${w('open')} ${s.kpi.open}`
        + ` · ${w('overdue')} ${s.kpi.overdue} · ${w('raised')} ${s.kpi.raised}`
        + ` · ${w('limits')}${s.limits_factor} · ${w('until')} ${hhmm(s.ends_at)}`),
      this.district ? h('button', { type: 'button', class: 'end', onclick: (ev) => this.end(ev, s) }, w('end')) : null)));
  }

  async end(ev, s) {
    ev.stopPropagation(); // not a zoom onto it
    try {
      await api(`/surges/${s.surge_id}/end`, { method: 'POST' });
      toast(`${w('ended')}：${s.name}`);
      await this.refresh();
    } catch (e) {
      toast(problemNode(e), 'err');
    }
  }
}

// Declaring a warning area, drawn or picked. Drawing: each click on the map (in the map's own
// coordinates, so pan and zoom do not matter) adds a corner; the ring closes on a double-click
// or 完成. Picking: a click on a grid picks it or drops it again, or a whole street is chosen
// from the list; the area is then the division codes (`area.geocodes`). Clicks are caught before
// the grids see them, so declaring never drills down.
class SurgeDraw {
  constructor(map, pane, onDeclared) {
    this.map = map;
    this.onDeclared = onDeclared;
    this.rules = [];
    this.mode = null; // 'draw' or 'pick' while declaring
    this.points = null; // [lon, lat] corners while drawing
    this.picked = new Set(); // grid codes while picking
    this.draft = document.createElementNS(NS, 'path');
    this.draft.setAttribute('class', 'surge-draft');
    map.gMarkers.before(this.draft);
    this.pickLayer = document.createElementNS(NS, 'g');
    this.pickLayer.setAttribute('class', 'surge-picks');
    map.gMarkers.before(this.pickLayer);
    this.button = h('button', { type: 'button', id: 'surge-draw', class: 'surge-draw-button', onclick: () => this.start('draw') }, w('draw'));
    this.pickButton = h('button', { type: 'button', id: 'surge-pick', class: 'surge-draw-button', onclick: () => this.start('pick') }, w('pick'));
    this.form = h('form', { id: 'surge-form', class: 'surge-form', hidden: true, onsubmit: (ev) => { ev.preventDefault(); this.declare(); } });
    pane.querySelector('.legend').after(h('div', { class: 'surge-tools' }, this.button, this.pickButton, this.form));
    const svg = map.svg;
    svg.addEventListener('click', (ev) => this.click(ev), true);
    svg.addEventListener('dblclick', (ev) => { if (this.mode === 'draw') { ev.preventDefault(); ev.stopPropagation(); this.finish(true); } }, true);
  }

  // the language switched: the buttons and an open form in the new language
  relabel() {
    if (this.lang === lang()) return; // a live update redraws the layer: the form is left alone
    this.lang = lang();
    this.button.textContent = w('draw');
    this.pickButton.textContent = w('pick');
    if (this.mode) this.renderForm();
  }

  async load() {
    if (!this.rules.length) {
      const doc = await api('/surges/policies');
      this.rules = doc.items;
      this.hours = doc.default_hours;
    }
  }

  start(mode) {
    this.mode = mode;
    this.points = [];
    this.picked = new Set();
    this.closed = false;
    this.button.hidden = true;
    this.pickButton.hidden = true;
    this.map.svg.classList.add(mode === 'draw' ? 'drawing' : 'picking');
    this.renderForm();
    this.drawDraft();
  }

  stop() {
    this.mode = null;
    this.points = null;
    this.picked = new Set();
    this.button.hidden = false;
    this.pickButton.hidden = false;
    clear(this.form).hidden = true; // the next one starts from fresh defaults
    this.map.svg.classList.remove('drawing', 'picking');
    this.drawDraft();
  }

  click(ev) {
    if (!this.mode) return;
    ev.stopPropagation();
    ev.preventDefault();
    if (this.mode === 'pick') {
      this.pickAt(ev);
      return;
    }
    if (this.closed) return;
    const pt = this.map.svg.createSVGPoint();
    pt.x = ev.clientX;
    pt.y = ev.clientY;
    const local = pt.matrixTransform(this.map.view.getScreenCTM().inverse());
    this.points.push(this.map.projection.invert([local.x, local.y]));
    this.drawDraft();
    this.renderForm();
  }

  // the grid under the click, picked or dropped (markers and layers above it let the click through)
  pickAt(ev) {
    const under = (ev.target.closest && ev.target.closest('path.grid'))
      || document.elementsFromPoint(ev.clientX, ev.clientY).find((el) => el.matches && el.matches('path.grid'));
    if (!under) return;
    const code = under.getAttribute('data-code');
    if (this.picked.has(code)) this.picked.delete(code);
    else this.picked.add(code);
    const street = this.form.elements.street;
    if (street) street.value = '';
    this.drawDraft();
    this.renderForm();
  }

  // dblclick: its two clicks added the same corner twice; drop the repeat
  finish(fromDblclick = false) {
    if (fromDblclick && this.points.length > 1) this.points.pop();
    if (this.points.length < 3) {
      toast(w('need3'), 'err');
      return;
    }
    this.closed = true;
    this.drawDraft();
    this.renderForm();
  }

  ring() {
    return this.points.length >= 3 ? [...this.points, this.points[0]] : null;
  }

  // the division codes picked: a whole street, else the grids clicked
  geocodes() {
    const street = this.form.elements.street && this.form.elements.street.value;
    return street ? [street] : [...this.picked].sort();
  }

  ready() {
    return this.mode === 'pick' ? this.geocodes().length > 0 : this.closed;
  }

  drawDraft() {
    const picks = [];
    if (this.mode === 'pick') {
      const street = this.form.elements.street && this.form.elements.street.value;
      const shapes = street ? [this.map.streets.get(street)] : [...this.picked].map((c) => this.map.grids.get(c));
      for (const f of shapes.filter(Boolean)) {
        const p = document.createElementNS(NS, 'path');
        p.setAttribute('d', this.map.path(f));
        p.setAttribute('class', 'surge-pick');
        p.setAttribute('data-code', f.id);
        picks.push(p);
      }
    }
    this.pickLayer.replaceChildren(...picks);
    const pts = (this.mode === 'draw' && this.points) || [];
    if (!pts.length) {
      this.draft.setAttribute('d', '');
      return;
    }
    const xy = pts.map((p) => this.map.projection(p));
    this.draft.setAttribute('d', `M${xy.map(([x, y]) => `${x},${y}`).join('L')}${this.closed ? 'Z' : ''}`);
    this.draft.classList.toggle('closed', !!this.closed);
  }

  areaFields() {
    if (this.mode === 'draw') {
      return [
        h('p', { class: 'hint' }, w('drawing'), h('b', { class: 'corners' }, ` ${this.points.length} ${w('corners')}`)),
      ];
    }
    const chosen = this.form.elements.street ? this.form.elements.street.value : '';
    const streets = [...this.map.streets.values()].sort((a, b) => a.id.localeCompare(b.id));
    return [
      h('p', { class: 'hint' }, w('picking'), h('b', { class: 'picked' }, ` ${this.picked.size} ${w('picked')}`)),
      h('label', {}, w('street'), ' ', h('select', { name: 'street', onchange: () => { this.drawDraft(); this.renderForm(); } },
        h('option', { value: '' }, w('none')),
        ...streets.map((f) => h('option', { value: f.id, selected: f.id === chosen }, f.properties.name)))),
    ];
  }

  renderForm() {
    const now = new Date();
    const old = this.form.elements;
    const keep = (name, fallback) => (old[name] ? old[name].value : fallback);
    const rule = keep('rule', '0');
    if (!old.starts) this.startsShown = localInput(now);
    const starts = keep('starts', this.startsShown);
    const ends = keep('ends', localInput(new Date(now.getTime() + this.hours * 3600e3)));
    const fields = this.areaFields();
    const ready = this.ready(); // read from the form as it is, before it is rebuilt
    this.form.hidden = false;
    this.form.dataset.mode = this.mode;
    clear(this.form).append(...[
      ...fields,
      h('label', {}, w('warning'), ' ', h('select', { name: 'rule' },
        ...this.rules.map((r, i) => h('option', { value: String(i), selected: String(i) === rule }, r.name)))),
      h('label', {}, w('starts'), ' ', h('input', { type: 'datetime-local', name: 'starts', value: starts, required: true })),
      h('label', {}, w('ends'), ' ', h('input', { type: 'datetime-local', name: 'ends', value: ends, required: true })),
      this.mode === 'draw' && !this.closed ? h('button', { type: 'button', class: 'finish', onclick: () => this.finish() }, w('finish')) : null,
      h('button', { type: 'submit', class: 'primary', disabled: !ready }, w('declare')),
      h('button', { type: 'button', class: 'cancel', onclick: () => this.stop() }, w('cancel')),
    ].filter(Boolean));
  }

  async declare() {
    const f = this.form.elements;
    const rule = this.rules[Number(f.rule.value)];
    const body = {
      warning: rule.warning,
      level: rule.level,
      // the start left as shown is "now" (the minute shown is already past)
      starts_at: f.starts.value === this.startsShown ? undefined : new Date(f.starts.value).toISOString(),
      until: new Date(f.ends.value).toISOString(),
      area: this.mode === 'pick' ? { geocodes: this.geocodes() } : { polygons: [this.ring()] },
    };
    try {
      const s = await api('/surges', { method: 'POST', body });
      toast(`${w('declared')}：${s.name}`);
      this.stop();
      await this.onDeclared();
    } catch (e) {
      toast(problemNode(e), 'err');
    }
  }
}
