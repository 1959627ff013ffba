// The admin inbox's connection: one WebSocket opened with a single-use ticket (the token only ever in a ticket request's Authorization header), keep-alive pings, reconnects with backoff + jitter that resume by sequence, telling a refused token from a desk that is down, and a revoked agent (close code 4001).

const PING_MS = 25000;
/** The close code the desk uses when an agent's access was revoked: never reconnect. */
export const REVOKED_CLOSE = 4001;
const MAX_BACKOFF_MS = 15000;

/** The subprotocol that carries a ticket: all a socket's handshake says about who opens it. */
export const TICKET_PREFIX = 'support-desk.ticket.';

/**
 * A single-use ticket for the next socket (docs/protocol.md, Tickets). The credential travels in this
 * request's `Authorization` header, which logs redact by name, never in the socket's URL or headers
 * (Tail Workers, `wrangler tail` and Workers Logs show those). Without a token (Cloudflare Access)
 * the edge's own proof signs the request. Resolves { ticket } or { status, retryAfterMs }: 401, 403
 * and 503 are refusals; anything else (0: no answer, the desk is restarting or being deployed) means
 * keep the token and retry.
 */
async function ticketFor(desk, token) {
  try {
    const r = await fetch('/desks/' + encodeURIComponent(desk) + '/admin/ticket', {
      method: 'POST', headers: token ? { Authorization: 'Bearer ' + token } : {}, cache: 'no-store',
    });
    let body = null;
    try { body = await r.json(); } catch { /* not JSON: judged by the status */ }
    if (r.status === 200 && body && typeof body.ticket === 'string' && body.ticket) return { ticket: body.ticket };
    return { status: r.status, retryAfterMs: Number(body && body.retryAfterMs) || 0 };
  } catch {
    return { status: 0, retryAfterMs: 0 };
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
  let ws = null, ready = false, everReady = false, fails = 0, timer = 0, ping = 0, stopped = false, asking = false;

  const refuse = () => {
    stopped = true;
    onState('refused');
    onRefused();
  };

  const retry = () => {
    onState('reconnecting');
    const delay = Math.min(MAX_BACKOFF_MS, 700 * 2 ** fails++) * (0.5 + Math.random() / 2);
    timer = setTimeout(open, delay);
  };

  async function open() {
    if (stopped || ws || asking) return;
    onState(everReady ? 'reconnecting' : 'connecting');
    asking = true;
    const got = await ticketFor(desk, token);
    asking = false;
    if (stopped) return;
    if (!got.ticket) {
      if (got.status === 401 || got.status === 403 || got.status === 503) refuse();
      else if (got.status === 429 && got.retryAfterMs) {
        onState('reconnecting');
        timer = setTimeout(open, got.retryAfterMs);
      } else retry();
      return;
    }
    let w;
    const query = point.query();
    try {
      w = ws = new WebSocket(url + query, ['support-desk.v1', TICKET_PREFIX + got.ticket]);
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
    w.addEventListener('close', (e) => {
      clearInterval(ping);
      if (ws !== w || stopped) return;
      if (e.code === REVOKED_CLOSE) {
        stopped = true;
        ws = null;
        onState('refused');
        onRevoked();
        return;
      }
      ws = null;
      ready = false;
      // Refused or dropped: the next ticket request says whether the credential is the reason.
      retry();
    });
  }

  const wake = () => { if (!ws && !asking && !stopped) { clearTimeout(timer); fails = 0; open(); } };
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
