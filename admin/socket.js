// The admin inbox's connection: one WebSocket authenticated by subprotocol, keep-alive pings, reconnects with backoff + jitter that resume by sequence, telling a refused token from a desk that is down, and a revoked agent (close code 4001).

const PING_MS = 25000;
/** The close code the desk uses when an agent's access was revoked: never reconnect. */
export const REVOKED_CLOSE = 4001;
const MAX_BACKOFF_MS = 15000;

/** The admin token as the subprotocol `support-desk.token.<hex(utf8(token))>` (never in the URL). */
export function tokenProtocol(token) {
  const hex = Array.from(new TextEncoder().encode(token), (b) => b.toString(16).padStart(2, '0')).join('');
  return 'support-desk.token.' + hex;
}

/**
 * Whether the desk refuses this credential. A browser cannot read why a WebSocket handshake failed,
 * so the desk is asked: 401/403/503 is a refusal; 204 or no answer (the desk is restarting or
 * being deployed) means keep the token and retry.
 */
async function refused(desk, token) {
  try {
    const r = await fetch('/desks/' + encodeURIComponent(desk) + '/admin/check', {
      method: 'POST', headers: token ? { Authorization: 'Bearer ' + token } : {}, cache: 'no-store',
    });
    return r.status === 401 || r.status === 403 || r.status === 503;
  } catch {
    return false;
  }
}

/**
 * The resume point: the desk's `epoch` and the largest `seq` seen (a fresh snapshot's `users.seq`,
 * every message and ack). A resumed `users` does not move it: the replayed messages that follow do,
 * so a socket dropped halfway through a replay resumes from the last one it got.
 */
function resumePoint() {
  let epoch = '', since = 0;
  return {
    query: () => (epoch ? '?' + new URLSearchParams({ since: String(since), epoch }) : ''),
    see(f) {
      if (f.type === 'users') {
        if (typeof f.epoch === 'string') epoch = f.epoch;
        if (f.resumed !== true && Number.isSafeInteger(f.seq)) since = f.seq;
      } else if ((f.type === 'message' || f.type === 'ack') && Number.isSafeInteger(f.seq) && f.seq > since) {
        since = f.seq;
      }
    },
  };
}

/**
 * Opens and keeps open the admin socket of `desk` (`token` null: signed in by Cloudflare Access);
 * reconnects ask to resume (`?since=&epoch=`).
 * handlers: onFrame(frame, { resumeAsked }), onState('connecting'|'connected'|'reconnecting'), onRefused(),
 * onRevoked() (the desk closed the socket with 4001: this agent's token no longer works).
 * `resumeAsked` is true on every frame of a socket that asked to resume: a `users` with
 * `resumed: false` then means "reload what is open".
 * Returns { send(obj) -> bool, stop() }.
 */
export function connectAdmin(desk, token, { onFrame, onState, onRefused, onRevoked }) {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
    '/desks/' + encodeURIComponent(desk) + '/admin';
  const point = resumePoint();
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
    const query = point.query();
    try {
      w = ws = new WebSocket(url + query, token ? ['support-desk.v1', tokenProtocol(token)] : ['support-desk.v1']);
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
      point.see(f);
      onFrame(f, { resumeAsked: query !== '' });
    });
    w.addEventListener('open', () => {
      ping = setInterval(() => { if (w.readyState === 1) w.send('{"type":"ping"}'); }, PING_MS);
    });
    w.addEventListener('close', async (e) => {
      clearInterval(ping);
      if (ws !== w || stopped) return;
      if (e.code === REVOKED_CLOSE) {
        stopped = true;
        ws = null;
        onState('refused');
        onRevoked();
        return;
      }
      const wasReady = ready;
      ws = null;
      ready = false;
      // Closed before the first frame: ask the desk whether the credential is the reason.
      if (!wasReady && await refused(desk, token)) {
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
