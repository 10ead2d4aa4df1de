// Export buttons: the KPI table and the case lists (all of the period, overdue, escalated) as
// XLSX or CSV from GET /export/…, in the operator's scope. The bearer token rides in a header,
// so the file is fetched and handed to the browser as a download (the board's list uses it too).
import { session, query } from '../common/api.js';
import { $, toast } from '../common/dom.js';
import { t } from '../common/i18n.js';

const LISTS = { // the period bounds only the first list: an overdue case may be older
  all: { period: true },
  overdue: { queue: 'overdue' }, // the board's 超期 queue (dispatch/kpi/overdue.py), not the light now
  escalated: { queue: 'escalated' }, // the board's 已升级（社区以上） queue: the same definition
};

export async function download(path, fallbackName) {
  const s = session();
  const r = await fetch(path, { headers: s ? { Authorization: `Bearer ${s.token}` } : {} });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const disposition = r.headers.get('content-disposition') || '';
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function caseFilter({ period, ...filter }, since, until, format) {
  return period ? { ...filter, since, until, format } : { ...filter, format };
}

export function exports(range) {
  $('#exports').addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-export]');
    if (!button) return;
    const form = new FormData($('#exports'));
    const format = button.dataset.format;
    const { since, until } = range();
    const path = button.dataset.export === 'kpi'
      ? '/export/kpi' + query({ group: form.get('group'), since, until, format })
      : '/export/incidents' + query(caseFilter(LISTS[form.get('list')], since, until, format));
    button.disabled = true;
    try {
      await download(path, `export.${format}`);
      toast(t('exported'));
    } catch (err) {
      toast(`${t('export_failed')}: ${err.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
}
