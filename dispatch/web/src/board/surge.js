// Surge areas on the board: the grids an active warning covers, hatched over the map, and a
// banner per surge with its counts (GET /surges: its KPI split). Drawn in a layer of its own
// above the grids, so the map's own shading is untouched.
import './surge.css';
import { api } from '../common/api.js';
import { h, clear } from '../common/dom.js';
import { lang } from '../common/i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const WORDS = {
  zh: { grids: '网格', opened: '新增', open: '在办', overdue: '超期', raised: '已提级', until: '至', limits: '时限×' },
  en: { grids: 'grids', opened: 'new', open: 'open', overdue: 'overdue', raised: 'raised', until: 'until', limits: 'limits ×' },
};
const w = (key) => (WORDS[lang()] || WORDS.zh)[key];

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' });
}

export class SurgeLayer {
  constructor(map, pane) {
    this.map = map;
    this.surges = [];
    this.g = document.createElementNS(NS, 'g');
    this.g.setAttribute('class', 'surge-layer');
    map.gGrids.after(this.g);
    this.banner = h('div', { id: 'surge-banner', class: 'surge-banner', hidden: true, role: 'status' });
    pane.prepend(this.banner);
  }

  async refresh() {
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
    this.banner.hidden = !this.surges.length;
    clear(this.banner).append(...this.surges.map((s) => h('div', {
      class: `surge level-${s.level}`, dataset: { surge: s.surge_id }, onclick: () => this.zoomTo(s),
    },
      h('b', {}, s.name),
      h('span', {}, ` ${s.title !== s.name ? s.title : ''}`),
      h('span', { class: 'counts' },
        ` · ${s.grids.length} ${w('grids')} · ${w('opened')} ${s.kpi.opened} · ${w('open')} ${s.kpi.open}`
        + ` · ${w('overdue')} ${s.kpi.overdue} · ${w('raised')} ${s.kpi.raised}`
        + ` · ${w('limits')}${s.limits_factor} · ${w('until')} ${hhmm(s.ends_at)}`))));
  }
}
