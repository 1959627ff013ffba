// The client side of the wire (docs/protocol.md), one module for every client: the widget bundles it at build, the inbox imports it as served at /client/protocol.js. Subprotocols, tickets, limits, keep-alive, reconnect backoff, the resume point, the outbox of unacked sends and how a send's state reads. tests/integration/client-protocol.test.js holds its constants to src/.

/** The subprotocol every socket speaks (`auth::SUBPROTOCOL`). */
export const SUBPROTOCOL = 'support-desk.v1';
/** The subprotocol that carries a ticket (`auth::TICKET_SUBPROTOCOL_PREFIX`): all a handshake says about who opens it. */
export const TICKET_PREFIX = 'support-desk.ticket.';
/** A message's longest text, in characters (`protocol::MAX_MESSAGE_CHARS`); longer ones are refused `too_long`. */
export const MAX_MESSAGE_CHARS = 4000;
/** The keep-alive frame, exactly as the desk answers it without waking (`protocol::PING_FRAME`). */
export const PING_FRAME = '{"type":"ping"}';
/** How often an open socket pings: three pings fit in the desk's stale window (`Liveness::DEFAULT_STALE_AFTER_MS`, 75 s). */
export const PING_INTERVAL_MS = 25000;

/** Close codes the desk uses: a socket silent too long (reconnect), an agent's access revoked, a conversation deleted or its visitor blocked (both: never reconnect). */
export const CLOSE_STALE = 4000;
export const CLOSE_REVOKED = 4001;
export const CLOSE_REMOVED = 4003;

/** Reconnect backoff: 700 ms doubling per failure up to 15 s, each wait jittered down to half so clients dropped together come back spread out. */
export const BACKOFF_FIRST_MS = 700;
export const BACKOFF_MAX_MS = 15000;
export const backoffDelay = (failures, random = Math.random) =>
  Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** failures) * (0.5 + random() / 2);

/** When a `rate_limited` answer names no `retryAfterMs`, the send goes out again after this long. */
export const RATE_LIMITED_FALLBACK_MS = 1000;

/** How a send of one's own reads under it, the same words on both sides. */
export const SEND_STATE_LABELS = { sending: 'Sending…', sent: 'Sent', failed: 'Not sent' };
export const sendStateLabel = (state) => SEND_STATE_LABELS[state] || SEND_STATE_LABELS.sent;

/** A fresh clientMsgId: the desk stores a repeated one once and acks it with the original id. */
export function newClientMsgId() {
  try {
    return crypto.randomUUID();
  } catch {
    return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }
}

/** The desk's base path for `desk` on `origin` (a URL or location): `https://host/desks/acme`. */
export const deskPath = (origin, desk) => origin.protocol + '//' + origin.host + '/desks/' + encodeURIComponent(desk);

/** The socket URL of `role` ('visitor' | 'admin'), resuming from `since` in `epoch` when an epoch is known. */
export function socketUrl(origin, desk, role, { since = 0, epoch = '' } = {}) {
  const base = deskPath(origin, desk).replace(/^http/, 'ws') + '/' + role;
  return epoch ? base + '?' + new URLSearchParams({ since: String(since), epoch }) : base;
}

/** The subprotocols a socket opens with: the protocol, then the single-use ticket. */
export const subprotocols = (ticket) => [SUBPROTOCOL, TICKET_PREFIX + ticket];

/**
 * Trades a credential for a single-use ticket (docs/protocol.md, Tickets): POST `url` with `init`
 * (the credential in the body or the Authorization header, never in a socket's URL or headers).
 * Resolves { ticket } or { status, retryAfterMs }; status 0: no answer (the desk is restarting or
 * being deployed), so keep the credential and retry.
 */
export async function requestTicket(url, init) {
  try {
    const response = await fetch(url, { method: 'POST', cache: 'no-store', ...init });
    let body = null;
    try { body = await response.json(); } catch { /* not JSON: judged by the status */ }
    if (response.status === 200 && body && typeof body.ticket === 'string' && body.ticket) return { ticket: body.ticket };
    return { status: response.status, retryAfterMs: Number(body && body.retryAfterMs) || 0 };
  } catch {
    return { status: 0, retryAfterMs: 0 };
  }
}

/** Pings `socket` every PING_INTERVAL_MS while it is open; returns the function that stops it. */
export function keepAlive(socket) {
  const timer = setInterval(() => { if (socket.readyState === 1) socket.send(PING_FRAME); }, PING_INTERVAL_MS);
  return () => clearInterval(timer);
}

/**
 * The outbox: one's own sends not yet acked, by clientMsgId (`entry.cid`). `transmit(entry)` sends its
 * frame when the socket is ready (returns false otherwise: it goes out on the next `resend`). An entry
 * stays until the desk acks it (`settle`) or refuses it for good (`refuse`); `rate_limited` keeps it
 * and sends it again after the `retryAfterMs` the desk named; every reconnect sends them all again,
 * unchanged (same clientMsgId: the desk stores each once).
 */
export function createOutbox(transmit) {
  const waiting = new Map();
  return {
    /** A new send: kept, and sent now if the socket is ready. */
    add(entry) {
      entry.st = 'sending';
      waiting.set(entry.cid, entry);
      transmit(entry);
      return entry;
    },
    /** An entry brought back from storage: kept, sent on the next `resend`. */
    keep(entry) {
      entry.st = 'sending';
      waiting.set(entry.cid, entry);
    },
    get: (cid) => waiting.get(cid),
    has: (cid) => waiting.has(cid),
    entries: () => [...waiting.values()],
    /** The desk stored it (an ack, or the stored message replayed): out of the outbox, marked sent. */
    settle(cid) {
      const entry = waiting.get(cid);
      if (!entry) return undefined;
      waiting.delete(cid);
      entry.st = 'sent';
      return entry;
    },
    /** Forgets an entry without marking it (the conversation it was for is gone). */
    drop(cid) { waiting.delete(cid); },
    /**
     * An `error` frame about one of its entries: `rate_limited` keeps it and sends it again when the
     * desk says (returns 'later'); any other code is final (returns 'failed', the entry marked so).
     * Returns undefined when the error is about nothing in the outbox.
     */
    refuse(frame) {
      const entry = waiting.get(frame.clientMsgId);
      if (!entry) return undefined;
      if (frame.code === 'rate_limited') {
        setTimeout(() => { if (waiting.get(entry.cid) === entry) transmit(entry); },
          Number(frame.retryAfterMs) || RATE_LIMITED_FALLBACK_MS);
        return 'later';
      }
      waiting.delete(entry.cid);
      entry.st = 'failed';
      return 'failed';
    },
    /** A new socket is ready: everything still waiting goes out again, oldest first. */
    resend() { for (const entry of waiting.values()) transmit(entry); },
    clear() { waiting.clear(); },
  };
}

// ---- availability (docs/protocol.md, "Availability") ----

/** How long an inbox waits without input before it sets its agent away (`desk::availability::IDLE_MS`). */
export const IDLE_MS = 600000;
/** A visitor's email as the desk accepts it (`protocol::valid_email`, at most `MAX_EMAIL_CHARS`): a hint before sending; the desk decides. */
export const MAX_EMAIL_CHARS = 254;
export const looksLikeEmail = (text) => {
  const email = String(text).trim();
  return email.length <= MAX_EMAIL_CHARS && /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$/.test(email);
};
/** The week as settings write it (`protocol::Day`), Sunday first as `Date.getDay()` counts. */
export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** `replyTime` values (`protocol::ReplyTime`) and how both clients say them. */
export const REPLY_TIMES = { minutes: 'in a few minutes', hours: 'within a few hours', day: 'within a day' };

/** Agent → desk: one's own status, 'online' or 'away'. */
export const statusFrame = (status) => ({ type: 'status', status });
/** Agent → desk: the desk's settings, or a change to them (owner and admins; absent fields stay). */
export const settingsFrame = () => ({ type: 'settings' });
export const settingsUpdateFrame = (changes) => ({ ...changes, type: 'settings_update' });
/** Visitor → desk: the visitor's email; agent → desk with `userId`: a visitor's (null removes it). */
export const emailFrame = (email, userId) => (userId ? { type: 'email', userId, email } : { type: 'email', email });

/**
 * `GET /desks/{desk}/status` (no socket; cached a few seconds): resolves
 * `{ online, agents: [{ name, initials }], nextOpenAt?, replyTime }`, or null when the desk does not answer.
 */
export async function fetchAvailability(origin, desk) {
  try {
    const response = await fetch(deskPath(origin, desk) + '/status');
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
