// The worker page's service worker (scope /m): the page, its assets and the worker's last task
// list load without a connection. Assets are content-hashed (cache first); the page and the
// API's GETs go to the network first and fall back to the last copy. POSTs are never cached:
// the page queues them with their idempotency keys (worker.js) and sends them on reconnect.
const PRECACHE = self.__PRECACHE__;
const CACHE = `yiwang-m-${self.__VERSION__}`;
const API = ['/worker/tasks', '/reference/categories'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('yiwang-m-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.url, response.clone());
    return response;
  } catch (e) {
    const copy = await cache.match(request.url);
    if (copy) return copy;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith('/static/')) {
    event.respondWith(caches.match(request.url).then((hit) => hit || fetch(request)));
  } else if (url.pathname === '/m' || API.includes(url.pathname)) {
    event.respondWith(networkFirst(request));
  }
});
