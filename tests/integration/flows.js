// Steps the integration tests share (connect and read the first frame, send and await the ack,
// read history back), built on the harness in ../helpers/desk.js. Not a test file itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_TOKEN, connectAdmin, connectVisitor, connectWithTicket, rawRequest, requestTicket, upgradeStatus, where } from '../helpers/desk.js';

export { where };

/** A fresh clientMsgId. */
export const cid = (prefix = 'c') => `${prefix}-${randomBytes(6).toString('hex')}`;

/** A visitor socket whose `welcome` has been read: `.welcome`, `.userId`, `.token`. */
export async function visitor(url, desk, opts) {
  const client = await connectVisitor(url, desk, opts);
  const welcome = await client.next('welcome');
  return Object.assign(client, { welcome, userId: welcome.userId, token: welcome.token });
}

/** An admin socket whose `users` snapshot has been read: `.snapshot`, `.users`. */
export async function admin(url, desk, opts) {
  const client = await connectAdmin(url, desk, opts);
  const snapshot = await client.next('users');
  return Object.assign(client, { snapshot, users: snapshot.users });
}

/** The admin rows of a desk, read through a fresh admin socket. */
export async function rows(url, desk) {
  const a = await admin(url, desk);
  await a.close();
  return a.users;
}

export const rowOf = (users, userId) => users.find((r) => r.userId === userId);

export const ackFor = (clientMsgId) => where(`ack for ${clientMsgId}`, (f) => f.type === 'ack' && f.clientMsgId === clientMsgId);
export const errorFor = (code) => where(`error ${code}`, (f) => f.type === 'error' && f.code === code);
export const messageWith = (text) => where(`message "${text.slice(0, 40)}"`, (f) => f.type === 'message' && f.message === text);
/** A conversation deleted (by an owner or admin, or by retention): `{"type":"removed","userId"}`. */
export const removedOf = (userId) => where(`removed ${userId}`, (f) => f.type === 'removed' && f.userId === userId);
export const rowFor = (userId, check = () => true) =>
  where(`user row of ${userId}`, (f) => f.type === 'user' && f.user?.userId === userId && check(f.user));

/** Visitor (or tab) `v` sends `text`; resolves with its ack. */
export function say(v, text, clientMsgId = cid('v')) {
  v.send({ type: 'message', message: text, clientMsgId });
  return v.next(ackFor(clientMsgId));
}

/** Admin `a` replies `text` to `userId`; resolves with its ack. */
export function reply(a, userId, text, clientMsgId = cid('a')) {
  a.send({ type: 'message', message: text, targetUserId: userId, clientMsgId });
  return a.next(ackFor(clientMsgId));
}

/** A `history` answer (an admin's for `userId`, or a visitor's own when `userId` is omitted). */
export function history(client, userId, extra = {}) {
  client.send({ type: 'history', ...(userId ? { userId } : {}), ...extra });
  return client.next(where(`history of ${userId ?? 'self'}`, (f) => f.type === 'history' && (!userId || f.userId === userId)));
}

/**
 * What a desk's public API says it has stored about `visitors` (each `{ userId, token }`), read back
 * through fresh sockets: the admin `users` frame (rows, seq, epoch), each visitor's `history` as the
 * admin sees it (up to 200 messages), and the `welcome` each gets on returning with its token.
 * Presence (`online`) is part of it: read it while the same sockets are open to compare two states.
 */
export async function storedState(url, desk, visitors) {
  const a = await admin(url, desk);
  const state = { users: a.snapshot, history: {}, welcome: {} };
  for (const v of visitors) state.history[v.userId] = await history(a, v.userId, { limit: 200 });
  await a.close();
  for (const v of visitors) {
    const again = await visitor(url, desk, { token: v.token });
    state.welcome[v.userId] = again.welcome;
    await again.close();
  }
  return state;
}

/** The texts of a message list, for readable assertions (an event as `event:<kind>`). */
export const texts = (messages) => messages.map((m) => (m.sender === 'event' ? `event:${m.event?.kind}` : `${m.sender}:${m.message}`));

/** What a visitor is owed of an admin's `history` answer: no notes, no events, no `agentId`. */
export function asVisitorSees(h) {
  const messages = h.messages.filter((m) => m.sender !== 'note' && m.sender !== 'event').map(({ agentId, ...m }) => m);
  return { ...h, messages };
}

/** Asserts a stored message object has the documented shape. */
export function assertStoredMessage(m, { sender, message }) {
  assert.equal(typeof m.id, 'string', `message id is a string: ${JSON.stringify(m)}`);
  assert.ok(Number.isInteger(m.seq) && m.seq > 0, `seq is a positive integer: ${JSON.stringify(m)}`);
  assert.equal(m.sender, sender);
  assert.equal(m.message, message);
  assert.ok(Number.isInteger(m.at) && Math.abs(m.at - Date.now()) < 10 * 60_000, `at is ms since the epoch, now-ish: ${m.at}`);
}

/** Asserts no frame carries a `null` anywhere: optional fields are omitted, never null. */
export function assertNoNulls(frames) {
  const walk = (value, path) => {
    assert.notEqual(value, null, `${path} is null`);
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  frames.forEach((f, i) => walk(f, `frame ${i} (${f.type})`));
}

export async function closeAll(...clients) {
  await Promise.all(clients.filter(Boolean).map((c) => c.close()));
}

// ---- the team inbox (docs/protocol.md, "The team inbox") -------------------------------------------

/** The built-in owner, as `users.me` names the ADMIN_TOKEN socket. */
export const OWNER = { agentId: 'owner', name: 'Owner', role: 'owner' };

/** A distinct client address per call (TEST-NET-2), so credential counters of tests never meet. */
let addressCount = 0;
export const freshAddress = () => {
  addressCount += 1;
  return `198.51.${100 + Math.floor(addressCount / 250)}.${(addressCount % 250) + 1}`;
};

export const eventFor = (userId, kind, check = () => true) =>
  where(`event ${kind} of ${userId}`, (f) => f.type === 'message' && f.sender === 'event' && f.userId === userId && f.event?.kind === kind && check(f));
export const noteWith = (text) => where(`note "${text.slice(0, 40)}"`, (f) => f.type === 'message' && f.sender === 'note' && f.message === text);
/** True when `value` holds, anywhere, what only agents may see: a note, an event (other than the
 *  mark of the desk's automatic reply, `{"kind":"away"}`), an `agentId`, an assignee or a
 *  conversation status. */
export function agentOnly(value) {
  if (value === null || typeof value !== 'object') return false;
  if (value.sender === 'note' || value.sender === 'event') return true;
  if ('event' in value && JSON.stringify(value.event) !== '{"kind":"away"}') return true;
  if (['agentId', 'assigneeId', 'assigneeName', 'snoozedUntil'].some((k) => k in value)) return true;
  return Object.values(value).some(agentOnly);
}
/** Matches any frame a visitor must never get (see `agentOnly`). */
export const internal = where('a frame with a note, an event or agent-only fields', (f) => agentOnly(f));

/** Owner/admin `a` invites someone; resolves with the `invited` frame (or the error). */
export function invite(a, { name = 'Ana', role = 'agent', email } = {}) {
  a.send({ type: 'invite', name, role, ...(email ? { email } : {}) });
  return a.next(where('invited or error', (f) => f.type === 'invited' || f.type === 'error'));
}

/** `POST /desks/{desk}/agents/accept`; resolves `{ status, body, headers }`. `body` may be a raw string. */
export async function acceptInvite(url, desk, code, name, { headers = {}, body } = {}) {
  const res = await fetch(`${url}/desks/${desk}/agents/accept`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshAddress(), ...headers },
    body: body ?? JSON.stringify({ code, name }),
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A new accepted agent on `desk`, invited by `by` (an owner/admin socket): `{ agentId, name, role, token }`. */
export async function newAgent(url, desk, by, { name = 'Ana', role = 'agent', email } = {}) {
  const invited = await invite(by, { name, role, email });
  assert.equal(invited.type, 'invited', `invite answered ${JSON.stringify(invited)}`);
  const res = await acceptInvite(url, desk, invited.code, name);
  assert.equal(res.status, 200, `accept: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** An admin socket signed in with an agent's own token (its `users` read, like `admin`). */
export function agentSocket(url, desk, agent, opts = {}) {
  return admin(url, desk, { token: agent.token, ...opts });
}

/** One `list` page. */
export function listPage(a, view, { cursor, limit } = {}) {
  a.send({ type: 'list', ...(view !== undefined ? { view } : {}), ...(cursor !== undefined ? { cursor } : {}), ...(limit !== undefined ? { limit } : {}) });
  return a.next(where(`list ${view ?? '(default)'} or error`, (f) => f.type === 'list' || f.type === 'error'));
}

/** Every row of a view, paging by cursor: `{ rows, pages, counts }` (counts of the first page). */
export async function listAll(a, view, { limit, maxPages = 1000 } = {}) {
  const pages = [];
  let cursor;
  do {
    const page = await listPage(a, view, { cursor, limit });
    assert.equal(page.type, 'list', `list ${view}: ${JSON.stringify(page)}`);
    pages.push(page);
    cursor = page.cursor;
    assert.ok(pages.length <= maxPages, `list ${view}: more than ${maxPages} pages`);
  } while (cursor !== undefined);
  return { rows: pages.flatMap((p) => p.users), pages, counts: pages[0].counts };
}

/** Sends a conversation frame (`resolve`, `reopen`, `snooze`, `assign`, `unread`) and resolves
 *  with the first `user` row of `userId` satisfying `check`, or the error it caused. Frames buffered
 *  before are dropped first, so that an earlier row cannot pass for the answer. */
export function act(a, frame, check = () => true) {
  a.drain();
  a.send(frame);
  return a.next(where(`${frame.type}: row of ${frame.userId} or error`,
    (f) => (f.type === 'user' && f.user?.userId === frame.userId && check(f.user)) || f.type === 'error'));
}

/** Sends `frame`, which must be refused: resolves with the error (frames buffered before are dropped,
 *  so that an earlier row cannot pass for the answer; the caller checks that nothing changed). */
export function refusal(a, frame) {
  a.drain();
  a.send(frame);
  return a.next(where(`an error for ${JSON.stringify(frame).slice(0, 80)}`, (f) => f.type === 'error'));
}

/** Admin `a` writes a note on `userId`; resolves with its ack. */
export function note(a, userId, text, clientMsgId = cid('n')) {
  a.send({ type: 'note', userId, message: text, clientMsgId });
  return a.next(where(`ack or error for ${clientMsgId}`, (f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === clientMsgId));
}

/** A search answer (or the error). */
export function search(a, query, extra = {}) {
  a.send({ type: 'search', query, ...extra });
  return a.next(where(`search "${String(query).slice(0, 30)}" or error`, (f) => f.type === 'search' || f.type === 'error'));
}

/** `POST /desks/{desk}` with `Authorization: Bearer <token>`, as the owner creates a desk:
 *  resolves with `{ status, body }` (`body`: `{desk, created}` or a refusal `{code, message}`). */
export async function createDesk(url, desk, { token = ADMIN_TOKEN, headers = [] } = {}) {
  const auth = token === null ? [] : [['Authorization', `Bearer ${token}`]];
  return rawRequest(url, `/desks/${desk}`, { method: 'POST', headers: [...auth, ...headers] });
}

/** A visitor socket opened as the widget opens it: a ticket for `body` ({token, name, userId,
 *  userHash}), then the socket with only the ticket; its `welcome` read. `.ticket`: the ticket used. */
export async function ticketVisitor(url, desk, body = {}, { since, epoch, headers } = {}) {
  const got = await requestTicket(url, desk, { kind: 'visitor', body, headers });
  assert.equal(got.status, 200, `visitor ticket: ${got.status} ${JSON.stringify(got.body)}`);
  const client = await connectWithTicket(url, desk, got.body.ticket, { since, epoch, headers });
  const welcome = await client.next('welcome');
  return Object.assign(client, { welcome, userId: welcome.userId, token: welcome.token, ticket: got.body.ticket });
}

/** An admin socket opened as the inbox opens it: a ticket for the Bearer `token`, then the socket;
 *  its `users` read. `.ticket`: the ticket used. */
export async function ticketAdmin(url, desk, { token = ADMIN_TOKEN, since, epoch, headers } = {}) {
  const got = await requestTicket(url, desk, { kind: 'admin', token, headers });
  assert.equal(got.status, 200, `admin ticket: ${got.status} ${JSON.stringify(got.body)}`);
  const client = await connectWithTicket(url, desk, got.body.ticket, { kind: 'admin', since, epoch, headers });
  const snapshot = await client.next('users');
  return Object.assign(client, { snapshot, users: snapshot.users, ticket: got.body.ticket });
}

/** Sends each malformed upgrade from `ip`, expecting its refusal, then shows that the address's one
 *  new visitor (NEW_VISITORS_PER_IP=1 with a refill too slow to matter, NEW_VISITORS_PER_MIN=0.01:
 *  the network's Limiter holds one token for the address) was still there to take: none of them
 *  created a visitor, nor took that token. */
export async function noVisitorFrom(url, name, ip, attempts) {
  const path = `/desks/${name}/visitor`;
  for (const [headers, opts, status] of attempts) {
    const res = await upgradeStatus(url, path, { ...headers, 'CF-Connecting-IP': ip }, opts);
    assert.equal(res.status, status, `${opts.method ?? 'GET'} ${JSON.stringify(headers)}: ${res.status} ${res.text.slice(0, 200)}`);
  }
  const first = await visitor(url, name, { headers: { 'CF-Connecting-IP': ip } });
  const second = await upgradeStatus(url, path, { 'CF-Connecting-IP': ip });
  assert.equal(second.status, 429, 'the quota of one was still free for the real visitor, and is spent now');
  await first.close();
}

const KEY = { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
/** Malformed upgrades the router refuses before any desk: [headers, { method, body }, status]. */
export const MALFORMED = [
  [{ 'Sec-WebSocket-Version': '8', ...KEY }, {}, 400],
  [{ 'Sec-WebSocket-Version': '12', ...KEY }, {}, 400],
  [{ 'Sec-WebSocket-Version': null, ...KEY }, {}, 400],
  [{ 'Sec-WebSocket-Key': '' }, {}, 400],
  [{ 'Sec-WebSocket-Key': 'not base64 at all' }, {}, 400],
  [{ 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAA' }, {}, 400], // 12 bytes
  [{ 'Sec-WebSocket-Key': null }, {}, 400],
  [{ Upgrade: null }, {}, 426],
  [{ Upgrade: 'h2c' }, {}, 426],
  [{}, { method: 'POST', body: '{}' }, 405], // reaches the Worker as a GET with a body
  [{}, { method: 'PUT', body: 'x' }, 405],
];
