// The KPI page's case finder: GET /search with what a caller or an agency quotes (a 110 or
// 12345 reference, a report or case id, the reporter's phone, address text); the operator's
// own street only, as the API scopes it.
import { api, query, ApiError } from '../common/api.js';
import { h, $, clear } from '../common/dom.js';
import { t, stateName, categoryName, when } from '../common/i18n.js';

function hit(item, categories) {
  return h('li', { class: 'hit', dataset: { incident: item.incident_id } },
    h('div', { class: 'hit-head' },
      h('b', {}, categoryName(categories, item.category)),
      h('span', { class: `pill light-${item.light || 'green'}` }, stateName(item.state)),
      h('span', { class: 'muted' }, item.priority)),
    h('div', {}, item.address || item.description || ''),
    h('div', { class: 'muted' },
      `${t('found_by')}: ${item.matched.map((m) => t(`match_${m}`)).join('、')} · ${when(item.first_reported_at)}`),
    h('code', { class: 'muted' }, item.incident_id));
}

export function finder(categories) {
  const form = $('#finder');
  const out = $('#found');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const q = new FormData(form).get('q');
    clear(out);
    try {
      const answer = await api('/search' + query({ q, limit: 20 }));
      if (!answer.items.length) out.append(h('li', { class: 'muted' }, t('found_none')));
      out.append(...answer.items.map((item) => hit(item, categories)));
    } catch (err) {
      out.append(h('li', { class: 'error' }, err instanceof ApiError ? err.message : t('found_none')));
    }
    out.dataset.done = 'true';
  });
}
