// The risk layer: open tasks the forecast (GET /forecast) expects to breach, as rings around
// their markers and a list ("likely to breach in 25 min") with the suggested reassignment to
// someone on shift with slack.
import { api } from '../common/api.js';
import { h, clear } from '../common/dom.js';
import { lang, categoryName } from '../common/i18n.js';

const NS = 'http://www.w3.org/2000/svg';
const RING_R = 9;
const WORDS = {
  zh: {
    title: '可能超期', soon: (m) => `预计 ${m} 分钟后超期`, past: (m) => `已超期 ${m} 分钟`, none: '暂无',
    suggest: (who, gain) => `建议改派 ${who}（提前 ${gain} 分钟）`, p: '超期概率',
  },
  en: {
    title: 'Likely to breach', soon: (m) => `likely to breach in ${m} min`, past: (m) => `${m} min past its limit`, none: 'none',
    suggest: (who, gain) => `reassign to ${who} (${gain} min sooner)`, p: 'P(breach)',
  },
};
const w = () => WORDS[lang()] || WORDS.zh;

export function riskLine(item) {
  const m = Math.round(Math.abs(item.minutes_left ?? 0));
  return (item.minutes_left ?? 0) >= 0 ? w().soon(m) : w().past(m);
}

export class RiskLayer {
  constructor(map, side, { categories, open }) {
    this.map = map;
    this.categories = categories;
    this.open = open;
    this.items = [];
    this.g = document.createElementNS(NS, 'g');
    this.g.setAttribute('class', 'risk-layer');
    map.gMarkers.before(this.g);
    this.panel = h('section', { id: 'risk-panel', class: 'risk-panel' },
      h('h2', {}, h('span', { class: 'title' }), ' ', h('b', { class: 'count' })), h('ol', { id: 'risk-list', class: 'items' }));
    side.querySelector('#queue-list').after(this.panel); // below the board's queue list
  }

  async refresh() {
    const doc = await api('/forecast?at_risk_only=true&limit=50');
    this.items = doc.items;
    this.draw();
  }

  draw(points = this.points || []) {
    this.points = points;
    const where = new Map(points.map((f) => [f.id, f.geometry.coordinates]));
    const k = this.map.k || 1;
    const rings = [];
    for (const item of this.items) {
      const at = where.get(item.incident_id);
      if (!at) continue;
      const [x, y] = this.map.projection(at);
      const c = document.createElementNS(NS, 'circle');
      for (const [a, v] of Object.entries({ cx: x, cy: y, r: RING_R / k, 'stroke-width': 2 / k, class: 'risk', 'data-id': item.incident_id })) c.setAttribute(a, String(v));
      const title = document.createElementNS(NS, 'title');
      title.textContent = riskLine(item);
      c.append(title);
      rings.push(c);
    }
    this.g.replaceChildren(...rings);
    this.panel.querySelector('.title').textContent = w().title;
    this.panel.querySelector('.count').textContent = String(this.items.length);
    const list = clear(this.panel.querySelector('.items'));
    if (!this.items.length) list.append(h('li', { class: 'muted' }, w().none));
    for (const item of this.items.slice(0, 12)) {
      list.append(h('li', { class: 'item risk-item', dataset: { id: item.incident_id, task: item.task_id }, onclick: () => this.open(item.incident_id) },
        h('span', { class: `badge ${item.priority}` }, item.priority),
        h('b', {}, categoryName(this.categories, item.category)),
        h('span', { class: 'when' }, ` ${riskLine(item)}`),
        h('div', { class: 'meta' }, `${item.assignee_id} · ${w().p} ${Math.round(item.p_breach * 100)}%`),
        item.suggestion ? h('div', { class: 'suggest' }, w().suggest(item.suggestion.worker_id, item.suggestion.gain_min)) : null));
    }
  }
}
