// Server-sent events read with fetch(), so the token travels in the Authorization header
// (EventSource cannot send one, and a token in the URL would end up in logs). Reconnects
// with a growing pause; `onState(true|false)` tells the page whether it is live.
import { session, logout } from './api.js';

export function subscribe(path, onItem, onState) {
  let stopped = false;
  let delay = 1000;
  let controller = null;

  async function once() {
    const s = session();
    controller = new AbortController();
    const r = await fetch(path, {
      headers: { Authorization: `Bearer ${s ? s.token : ''}`, Accept: 'text/event-stream' },
      signal: controller.signal,
      cache: 'no-store',
    });
    if (r.status === 401) {
      stopped = true;
      logout(location.pathname);
      return;
    }
    if (!r.ok || !r.body) throw new Error(`live: HTTP ${r.status}`);
    onState(true);
    delay = 1000;
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (data) {
          try {
            onItem(JSON.parse(data));
          } catch (e) {
            console.warn('live: bad item', e);
          }
        }
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (e) {
        if (stopped) return;
      }
      onState(false);
      await new Promise((ok) => setTimeout(ok, delay));
      delay = Math.min(delay * 2, 30000);
      onItem({ kind: 'resync' });
    }
  })();

  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}
