import './common/base.css';
import { api, ApiError, saveSession } from './common/api.js';
import { apply, t, toggle } from './common/i18n.js';
import { $, $$ } from './common/dom.js';

apply();
$('#lang').addEventListener('click', () => { toggle(); apply(); });

for (const tab of $$('.tab')) {
  tab.addEventListener('click', () => {
    for (const other of $$('.tab')) other.classList.toggle('active', other === tab);
    $('#login-operator').hidden = tab.dataset.role !== 'operator';
    $('#login-worker').hidden = tab.dataset.role !== 'grid_worker';
  });
}

function destination(role) {
  const next = new URLSearchParams(location.search).get('next') || '';
  const home = role === 'grid_worker' ? '/m' : role === 'desk' ? '/inbox' : '/board';
  if (!next.startsWith('/') || next.startsWith('//')) return home;
  if (role === 'desk') return next === '/inbox' ? next : home;
  const forWorker = next === '/m' || next.startsWith('/m/');
  return forWorker === (role === 'grid_worker') ? next : home;
}

for (const form of [$('#login-operator'), $('#login-worker')]) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const error = $('#login-error');
    error.hidden = true;
    const body = Object.fromEntries(new FormData(form).entries());
    try {
      const answer = await api('/auth/login', { method: 'POST', body });
      const s = saveSession(answer);
      location.href = destination(s.role);
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? t('login_failed') : e.message;
      error.hidden = false;
    }
  });
}
