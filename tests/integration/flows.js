// Steps the integration tests share (connect and read the first frame, send and await the ack,
// read history back), built on the harness in ../helpers/desk.js. Not a test file itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectAdmin, connectVisitor, where } from '../helpers/desk.js';

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

/** The texts of a message list, for readable assertions. */
export const texts = (messages) => messages.map((m) => `${m.sender}:${m.message}`);

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
