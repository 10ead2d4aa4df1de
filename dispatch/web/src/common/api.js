// The API client of every page: the session (token from /auth/login, kept in localStorage),
// JSON calls with the bearer token, idempotency keys for commands, and errors that name
// the API's own detail and field.
const KEY = 'yiwang.session';

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.detail ? String(body.detail) : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.field = this.body.field || null;
  }
}

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (!s || !s.token || (s.expires && Date.now() > s.expires)) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(answer) {
  const s = {
    token: answer.access_token,
    role: answer.role,
    sub: answer.sub,
    street: answer.street || null,
    district: answer.district || null,
    desk: answer.desk || null,
    expires: Date.now() + (answer.expires_in || 0) * 1000 - 60000,
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export function logout(next) {
  localStorage.removeItem(KEY);
  location.href = '/login' + (next ? `?next=${encodeURIComponent(next)}` : '');
}

// The city operator (城市运行管理中心) is an operator whose scope is every district.
const ALSO = { operator: ['city_operator'] };

export function requireSession(role) {
  const s = session();
  if (!s || (s.role !== role && !(ALSO[role] || []).includes(s.role))) {
    logout(location.pathname);
    throw new Error('not logged in');
  }
  return s;
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function api(path, { method = 'GET', body, form, key, headers: extra = {} } = {}) {
  const s = session();
  const headers = { Accept: 'application/json', ...extra };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (key) headers['Idempotency-Key'] = key;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload });
  if (r.status === 401 && path !== '/auth/login') {
    logout(location.pathname);
    throw new ApiError(401, { detail: 'session expired' });
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) };
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}
