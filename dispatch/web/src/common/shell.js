// The header every operator page shares: title, navigation, language switch, logout.
import { logout } from './api.js';
import { apply, toggle } from './i18n.js';
import { $ } from './dom.js';

export function shell(onLanguage) {
  apply();
  const lang = $('#lang');
  if (lang) {
    lang.addEventListener('click', () => {
      toggle();
      apply();
      if (onLanguage) onLanguage();
    });
  }
  const out = $('#logout');
  if (out) out.addEventListener('click', () => logout());
}
