// The admin inbox's connection: one WebSocket authenticated by subprotocol, keep-alive pings, reconnects with backoff + jitter, and telling a refused token from a desk that is down.

const PING_MS = 25000;
const MAX_BACKOFF_MS = 15000;

/** The admin token as the subprotocol `support-desk.token.<hex(utf8(token))>` (never in the URL). */
export function tokenProtocol(token) {
  const hex = Array.from(new TextEncoder().encode(token), (b) => b.toString(16).padStart(2, '0')).join('');
  return 'support-desk.token.' + hex;
}

/** Whether the desk's origin answers HTTP at all (a socket refused while it does = refused credential). */
async function reachable() {
  try {
    await fetch('/admin/admin.js', { method: 'HEAD', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens and keeps open the admin socket of `desk`.
 * handlers: onFrame(frame), onState('connecting'|'connected'|'reconnecting'), onRefused().
 * Returns { send(obj) -> bool, stop() }.
 */
export function connectAdmin(desk, token, { onFrame, onState, onRefused }) {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
    '/desks/' + encodeURIComponent(desk) + '/admin';
  let ws = null, ready = false, everReady = false, fails = 0, timer = 0, ping = 0, stopped = false;

  const retry = () => {
    onState('reconnecting');
    const delay = Math.min(MAX_BACKOFF_MS, 700 * 2 ** fails++) * (0.5 + Math.random() / 2);
    timer = setTimeout(open, delay);
  };

  function open() {
    if (stopped) return;
    onState(everReady ? 'reconnecting' : 'connecting');
    let w;
    try {
      w = ws = new WebSocket(url, ['support-desk.v1', tokenProtocol(token)]);
    } catch {
      retry();
      return;
    }
    ready = false;
    w.addEventListener('message', (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if (!f || typeof f !== 'object') return;
      if (f.type === 'users') {
        ready = everReady = true;
        fails = 0;
        onState('connected');
      }
      onFrame(f);
    });
    w.addEventListener('open', () => {
      ping = setInterval(() => { if (w.readyState === 1) w.send('{"type":"ping"}'); }, PING_MS);
    });
    w.addEventListener('close', async () => {
      clearInterval(ping);
      if (ws !== w || stopped) return;
      const wasReady = ready;
      ws = null;
      ready = false;
      // Refused before the first frame while the desk answers HTTP: the credential was refused
      // (401, or 503 when admin access is disabled). A token that worked once is given a few tries.
      if (!wasReady && (!everReady || fails > 2) && await reachable()) {
        stopped = true;
        onState('refused');
        onRefused();
        return;
      }
      retry();
    });
  }

  const wake = () => { if (!ws && !stopped) { clearTimeout(timer); fails = 0; open(); } };
  addEventListener('online', wake);
  open();
  return {
    send(obj) {
      if (!ws || !ready || ws.readyState !== 1) return false;
      ws.send(JSON.stringify(obj));
      return true;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(ping);
      removeEventListener('online', wake);
      if (ws) ws.close();
    },
  };
}
