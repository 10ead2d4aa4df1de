// The district map: the grid polygons themselves, drawn as SVG with d3-geo (no tiles, no
// WebGL), community and street boundaries on top, incidents as markers. Pan and zoom with
// d3-zoom; a click drills down street → community → grid.
import { geoMercator, geoPath } from 'd3-geo';
import { select } from 'd3-selection';
import { zoom, zoomIdentity } from 'd3-zoom';

const NS = 'http://www.w3.org/2000/svg';
const MARKER_R = 5;

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function shade(counts) {
  if (!counts || !counts.open) return 'none';
  if (counts.overdue > 0) return counts.overdue >= 3 ? 'overdue3' : counts.overdue === 2 ? 'overdue2' : 'overdue1';
  return counts.open >= 5 ? 'open3' : counts.open >= 2 ? 'open2' : 'open1';
}

export class DistrictMap {
  constructor(container, layers, onPick) {
    this.container = container;
    this.layers = layers;
    this.onPick = onPick;
    this.k = 1;
    this.grids = new Map(layers.grids.features.map((f) => [f.id, f]));
    this.communities = new Map(layers.communities.features.map((f) => [f.id, f]));
    this.streets = new Map(layers.streets.features.map((f) => [f.id, f]));
    this.build();
  }

  build() {
    const { width, height } = this.container.getBoundingClientRect();
    this.width = Math.max(width, 300);
    this.height = Math.max(height, 300);
    this.projection = geoMercator().fitExtent([[8, 8], [this.width - 8, this.height - 8]], this.layers.grids);
    this.path = geoPath(this.projection);
    const svg = svgEl('svg', { viewBox: `0 0 ${this.width} ${this.height}`, class: 'district', role: 'img' });
    this.view = svgEl('g', { class: 'view' });
    this.gGrids = svgEl('g', { class: 'grids' });
    this.gCommunities = svgEl('g', { class: 'communities' });
    this.gStreets = svgEl('g', { class: 'streets' });
    this.gLabels = svgEl('g', { class: 'labels' });
    this.gMarkers = svgEl('g', { class: 'markers' });
    this.view.append(this.gGrids, this.gCommunities, this.gStreets, this.gLabels, this.gMarkers);
    svg.append(this.view);
    for (const f of this.layers.grids.features) {
      const p = svgEl('path', { d: this.path(f), class: 'grid none', 'data-code': f.id });
      p.addEventListener('click', (ev) => { ev.stopPropagation(); this.onPick(f.id); });
      const title = svgEl('title');
      title.textContent = f.properties.name;
      p.append(title);
      this.gGrids.append(p);
    }
    for (const f of this.layers.communities.features) {
      this.gCommunities.append(svgEl('path', { d: this.path(f), 'data-code': f.id }));
    }
    for (const f of this.layers.streets.features) {
      this.gStreets.append(svgEl('path', { d: this.path(f), 'data-code': f.id }));
    }
    this.container.replaceChildren(svg);
    this.svg = svg;
    this.zoom = zoom().scaleExtent([1, 80]).on('zoom', (ev) => this.zoomed(ev.transform));
    select(svg).call(this.zoom).on('dblclick.zoom', null);
  }

  zoomed(t) {
    this.k = t.k;
    this.view.setAttribute('transform', `translate(${t.x},${t.y}) scale(${t.k})`);
    for (const c of this.gMarkers.children) c.setAttribute('r', String(MARKER_R / t.k));
    for (const l of this.gLabels.children) {
      l.setAttribute('font-size', String(12 / t.k));
      l.setAttribute('stroke-width', String(3 / t.k));
    }
  }

  zoomTo(feature, fill = 0.88) {
    if (!feature) {
      select(this.svg).call(this.zoom.transform, zoomIdentity);
      return;
    }
    const [[x0, y0], [x1, y1]] = this.path.bounds(feature);
    const scale = Math.min(80, fill / Math.max((x1 - x0) / this.width, (y1 - y0) / this.height));
    const t = zoomIdentity
      .translate(this.width / 2 - (scale * (x0 + x1)) / 2, this.height / 2 - (scale * (y0 + y1)) / 2)
      .scale(scale);
    select(this.svg).call(this.zoom.transform, t);
  }

  // focus: {street, community, grid}; shades the grids, dims what is outside the focus, labels the children
  render(focus, counts, labelOf) {
    this.focus = focus;
    for (const p of this.gGrids.children) this.shadeGrid(p, counts);
    for (const p of this.gCommunities.children) {
      const f = this.communities.get(p.dataset.code);
      p.setAttribute('class', focus.street && f.properties.parent === focus.street ? 'shown' : '');
    }
    const children = focus.community
      ? [...this.grids.values()].filter((f) => f.properties.parent === focus.community)
      : focus.street
        ? [...this.communities.values()].filter((f) => f.properties.parent === focus.street)
        : [...this.streets.values()];
    this.gLabels.replaceChildren(
      ...children.map((f) => {
        const [x, y] = this.path.centroid(f);
        const text = svgEl('text', { x, y, 'font-size': 12 / this.k, 'stroke-width': 3 / this.k, 'text-anchor': 'middle', 'data-code': f.id });
        text.textContent = labelOf(f);
        return text;
      }),
    );
  }

  shadeGrid(p, counts) {
    const focus = this.focus || {};
    const f = this.grids.get(p.dataset.code);
    const inside = (!focus.street || f.id.startsWith(focus.street))
      && (!focus.community || f.properties.parent === focus.community);
    const cls = ['grid', shade(counts.get(f.id))];
    if (!inside) cls.push('dim');
    if (focus.grid === f.id) cls.push('picked');
    p.setAttribute('class', cls.join(' '));
  }

  // only the grids whose counts changed (a live update), and the labels over them
  reshade(codes, counts, labelOf) {
    for (const code of codes) {
      const p = this.gGrids.querySelector(`path[data-code="${code}"]`);
      if (p) this.shadeGrid(p, counts);
    }
    for (const text of this.gLabels.children) {
      const code = text.dataset.code;
      if ([...codes].some((c) => c && c.startsWith(code))) {
        const f = this.grids.get(code) || this.communities.get(code) || this.streets.get(code);
        if (f) text.textContent = labelOf(f);
      }
    }
  }

  marker(f, onOpen) {
    const [x, y] = this.projection(f.geometry.coordinates);
    const c = svgEl('circle', { cx: x, cy: y, r: MARKER_R / this.k, 'data-id': f.id });
    c.addEventListener('click', (ev) => { ev.stopPropagation(); onOpen(f.id); });
    return c;
  }

  // every marker drawn once; later calls change only the markers of the cases given
  markers(features, visible, onOpen) {
    this.onOpen = onOpen;
    this.drawn = new Map();
    this.gMarkers.replaceChildren();
    for (const f of features) this.upsert(f, visible);
  }

  upsert(f, visible) {
    let c = this.drawn.get(f.id);
    if (!c) {
      c = this.marker(f, this.onOpen);
      this.drawn.set(f.id, c);
      this.gMarkers.append(c);
    }
    const p = f.properties;
    c.setAttribute('class', `marker ${p.priority} light-${p.light}`);
    c.style.display = visible(f) ? '' : 'none';
  }

  remove(id) {
    const c = this.drawn.get(id);
    if (c) c.remove();
    this.drawn.delete(id);
  }

  // the filters changed: show or hide the markers, no element rebuilt
  filter(features, visible) {
    for (const f of features) {
      const c = this.drawn.get(f.id);
      if (c) c.style.display = visible(f) ? '' : 'none';
    }
  }
}
