// The admin inbox's connection: one WebSocket opened with a single-use ticket (the token only ever in a ticket request's Authorization header), keep-alive pings, reconnects with backoff + jitter that resume by sequence, telling a refused token from a desk that is down, and a revoked agent (close code 4001). The wire's constants and rules come from the shared client module.
import { CLOSE_REVOKED, backoffDelay, deskPath, keepAlive, requestTicket, socketUrl, subprotocols } from '../client/protocol.js';

/**
 * A single-use ticket for the next socket (docs/protocol.md, Tickets). The credential travels in this
 * request's `Authorization` header, which logs redact by name, never in the socket's URL or headers
 * (Tail Workers, `wrangler tail` and Workers Logs show those). Without a token (Cloudflare Access)
 * the edge's own proof signs the request. Resolves { ticket } or { status, retryAfterMs }: 401, 403
 * and 503 are refusals; anything else (0: no answer, the desk is restarting or being deployed) means
 * keep the token and retry.
 */
const ticketFor = (desk, token) =>
  requestTicket(deskPath(location, desk) + '/admin/ticket', { headers: token ? { Authorization: 'Bearer ' + token } : {} });

/**
 * The resume point: the desk's `epoch` and the largest `seq` seen (a fresh snapshot's `users.seq`,
 * every message and ack). A resumed `users` does not move it: the replayed messages that follow do,
 * so a socket dropped halfway through a replay resumes from the last one it got.
 */
function resumePoint() {
  let epoch = '', since = 0;
  return {
    get: () => ({ since, epoch }),
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
  const point = resumePoint();
  let ws = null, ready = false, everReady = false, fails = 0, timer = 0, stopPing = () => {}, stopped = false, asking = false;

  const refuse = () => {
    stopped = true;
    onState('refused');
    onRefused();
  };

  const retry = () => {
    onState('reconnecting');
    timer = setTimeout(open, backoffDelay(fails++));
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
    const resume = point.get();
    try {
      w = ws = new WebSocket(socketUrl(location, desk, 'admin', resume), subprotocols(got.ticket));
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
      onFrame(f, { resumeAsked: resume.epoch !== '' });
    });
    w.addEventListener('open', () => { stopPing = keepAlive(w); });
    w.addEventListener('close', (e) => {
      stopPing();
      if (ws !== w || stopped) return;
      if (e.code === CLOSE_REVOKED) {
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
      stopPing();
      removeEventListener('online', wake);
      if (ws) ws.close();
    },
  };
}
