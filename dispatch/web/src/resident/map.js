// Where the report was placed, on the grid map: the grids of its community drawn as SVG with
// d3-geo (the board's projection, no tiles), the report's grid filled, its point marked.
import { geoMercator, geoPath } from 'd3-geo';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 220;

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function placeMap(place) {
  const svg = svgEl('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'grid-map', role: 'img', id: 'place-map' });
  if (!place.grids.features.length) return svg;
  const projection = geoMercator().fitExtent([[6, 6], [WIDTH - 6, HEIGHT - 6]], place.grids);
  const path = geoPath(projection);
  for (const f of place.grids.features) {
    const cell = svgEl('path', { d: path(f), class: f.id === place.grid_code ? 'grid mine' : 'grid', 'data-code': f.id });
    const title = svgEl('title');
    title.textContent = f.properties.name;
    cell.append(title);
    svg.append(cell);
  }
  if (place.lon !== null && place.lat !== null) {
    const [x, y] = projection([place.lon, place.lat]);
    svg.append(svgEl('circle', { cx: x, cy: y, r: 6, class: 'spot', id: 'place-spot' }));
  }
  return svg;
}
