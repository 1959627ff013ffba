// The client side of the wire (docs/protocol.md), one module for every client: the widget bundles it at build, the inbox imports it as served at /client/protocol.js. Subprotocols, tickets, limits, keep-alive, reconnect backoff, the resume point, the outbox of unacked sends, how a send's state reads, typing and seen frames. tests/integration/client-protocol.test.js holds its constants to src/.

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

// ---- who and where (docs/protocol.md, Who and where): the widget's page report, cut to the desk's limits ----

/** The desk's limits on a `context` frame (`protocol::context`): what is longer is refused `bad_frame`, so the client cuts first. */
export const MAX_URL_CHARS = 2048;
export const MAX_TITLE_CHARS = 300;
export const MAX_LANGUAGE_CHARS = 35;
export const MAX_TIME_ZONE_CHARS = 64;
export const MAX_ATTRIBUTES = 20;
export const MAX_ATTRIBUTE_KEY_CHARS = 32;
export const MAX_ATTRIBUTE_VALUE_CHARS = 100;

const cut = (value, max) => (typeof value == 'string' ? Array.from(value).slice(0, max).join('') : '');
const httpUrl = (value) => (/^https?:\/\/[^/?#\s]/i.test(value) && !/[\s\x00-\x1f\x7f]/.test(value) ? cut(value, MAX_URL_CHARS) : '');

/**
 * A verified customer's attributes as the desk takes them (`SupportChat.identify({ attributes })`): text and finite numbers
 * only, keys of 1 to 32 of A-Z a-z 0-9 _ - ., text cut to 100 characters without control characters, at most 20; anything
 * else is left out. Undefined when none is left.
 */
export function cleanAttributes(attributes) {
  if (!attributes || typeof attributes != 'object') return undefined;
  const kept = {};
  let count = 0;
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (count >= MAX_ATTRIBUTES || !/^[A-Za-z0-9_.-]{1,32}$/.test(key)) continue;
    if (typeof value == 'number' && Number.isFinite(value)) kept[key] = value;
    else if (typeof value == 'string') kept[key] = cut(value.replace(/[\x00-\x1f\x7f]/g, ' '), MAX_ATTRIBUTE_VALUE_CHARS);
    else continue;
    count++;
  }
  return count ? kept : undefined;
}

/** The visitor's `context` frame for the page it is on: every field within the desk's limits (fields it would refuse are left out). */
export function contextFrame({ url, title, referrer, language, timeZone, attributes }) {
  const frame = { type: 'context', url: httpUrl(url) };
  const titled = cut(String(title || '').replace(/[\x00-\x1f\x7f]/g, ' ').trim(), MAX_TITLE_CHARS);
  if (titled) frame.title = titled;
  if (httpUrl(referrer)) frame.referrer = httpUrl(referrer);
  if (/^([A-Za-z]{2,3}|[xXiI])(-[A-Za-z0-9]{1,8})*$/.test(language || '') && language.length <= MAX_LANGUAGE_CHARS) frame.language = language;
  if (/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,3}$/.test(timeZone || '') && timeZone.length <= MAX_TIME_ZONE_CHARS) frame.timeZone = timeZone;
  if (attributes) frame.attributes = attributes;
  return frame;
}

// ---- saved replies (docs/protocol.md, Saved replies): the inbox's frames and the `/` shortcut ----

/** The desk's limits on saved replies (`protocol::saved_replies`). */
export const MAX_SAVED_REPLIES = 50;
export const MAX_REPLY_TITLE_CHARS = 80;
export const MAX_SHORTCUT_CHARS = 32;
export const MAX_REPLY_TEXT_CHARS = 1000;

export const repliesFrame = () => ({ type: 'replies' });
/** Creates (no id) or edits a saved reply (owner and admins). */
export const saveReplyFrame = ({ id, title, shortcut, text }) =>
  ({ type: 'save_reply', ...(id ? { id } : {}), title, shortcut: String(shortcut).replace(/^\//, '').toLowerCase(), text });
export const deleteReplyFrame = (id) => ({ type: 'delete_reply', id });

/** The `/shortcut` being typed just before `caret` in `text` (at the start or after white space): { start, prefix }, or null. */
export function shortcutAt(text, caret) {
  const m = /(^|\s)\/([A-Za-z0-9_-]{0,32})$/.exec(text.slice(0, caret));
  return m ? { start: caret - m[2].length - 1, prefix: m[2].toLowerCase() } : null;
}

/** The saved replies whose shortcut starts with `prefix`, then those whose title contains it; at most `limit`. */
export function matchingReplies(replies, prefix, limit = 8) {
  const first = replies.filter((r) => r.shortcut.startsWith(prefix));
  const then = replies.filter((r) => !r.shortcut.startsWith(prefix) && r.title.toLowerCase().includes(prefix));
  return [...first, ...then].slice(0, limit);
}

/**
 * "Typing…" (docs/protocol.md, Typing): a client sends at most one `typing` frame per TYPING_EVERY_MS
 * (`protocol::TYPING_EVERY_MS`; the desk drops the rest) and shows the other side's until TYPING_SHOWN_MS
 * after the last one (`protocol::TYPING_SHOWN_MS`) or until their message comes.
 */
export const TYPING_EVERY_MS = 2000;
export const TYPING_SHOWN_MS = 6000;
/** A visitor's `typing` names no conversation (`userId` omitted), an agent's names the visitor's. */
export const typingFrame = (userId) => (userId ? { type: 'typing', userId } : { type: 'typing' });
/** A visitor's `seen`: the highest seq its widget has shown on screen (panel open, tab visible). */
export const seenFrame = (seq) => ({ type: 'seen', seq });
/** The word under one's own message once the other side has read (widget) or seen (inbox) it. */
export const SEEN_LABEL = 'Seen';

/** Calls `send(typingFrame(userId))` on `typed(userId)` at most once per TYPING_EVERY_MS (a send that returns false does not count). */
export function typingSender(send, now = Date.now) {
  let last = -TYPING_EVERY_MS;
  return (userId) => {
    const at = now();
    if (at - last >= TYPING_EVERY_MS && send(typingFrame(userId)) !== false) last = at;
  };
}

/**
 * Who is typing, by key: `show(key, label)` on each `typing` frame, `clear(key)` when their message
 * comes; each expires TYPING_SHOWN_MS after its last frame. `onChange()` runs on every change;
 * `labels(prefix)` lists what is shown for keys starting with it.
 */
export function typingShown(onChange) {
  const shown = new Map();
  const clear = (key) => {
    if (!shown.has(key)) return;
    clearTimeout(shown.get(key).timer);
    shown.delete(key);
    onChange();
  };
  return {
    show(key, label) {
      clearTimeout(shown.get(key)?.timer);
      shown.set(key, { label, timer: setTimeout(() => clear(key), TYPING_SHOWN_MS) });
      onChange();
    },
    clear,
    labels: (prefix = '') => [...shown].filter(([key]) => key.startsWith(prefix)).map(([, v]) => v.label),
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
/** Agent → desk: read (no changes) or set its own email alerts (`unanswered`, `email`). */
export const emailAlertsFrame = (changes = {}) => ({ ...changes, type: 'email_alerts' });
// ---- webhooks (docs/protocol.md, "Webhooks") ----

/** The events a webhook may ask for (`protocol::WebhookEvent`). */
export const WEBHOOK_EVENTS = ['conversation.created', 'message.created', 'conversation.unanswered', 'conversation.resolved'];
/** Owner/admin → desk: the endpoints and the delivery log; create or change one (`id` absent: new); remove one. */
export const webhooksFrame = () => ({ type: 'webhooks' });
export const webhookSaveFrame = (fields) => ({ ...fields, type: 'webhook_save' });
export const webhookDeleteFrame = (id) => ({ type: 'webhook_delete', id });

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
