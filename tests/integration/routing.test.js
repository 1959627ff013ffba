// Who gets what: the A/B/C scenario of issue 2, welcome, ack and what admins see of a visitor message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare } from '../helpers/desk.js';
import {
  admin, assertNoNulls, assertStoredMessage, closeAll, history, messageWith, reply, rowFor, rowOf, rows, say, texts, visitor, where,
} from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

test('A/B/C: unread counts, newest first, read, and a reply reaches A only', async () => {
  const name = deskName('abc');
  const admin1 = await admin(desk.url, name);
  const admin2 = await admin(desk.url, name);
  assert.deepEqual(admin1.users, [], 'a new desk has no conversations');
  const [A, B, C] = [await visitor(desk.url, name), await visitor(desk.url, name), await visitor(desk.url, name)];
  assert.equal(new Set([A.userId, B.userId, C.userId]).size, 3, 'three distinct visitors');

  // A writes twice, B once, C once; the last activity order is C, A, B.
  await say(A, 'A one');
  await say(B, 'B one');
  await say(A, 'A two');
  await say(C, 'C one');
  for (const a of [admin1, admin2]) {
    await a.next(rowFor(C.userId, (u) => u.unread === 1 && u.lastMessage === 'C one'));
  }
  const first = await rows(desk.url, name);
  assert.deepEqual(first.map((r) => [r.userId, r.unread]), [[C.userId, 1], [A.userId, 2], [B.userId, 1]],
    'rows newest activity first with unread 2/1/1');
  for (const r of first) {
    assert.equal(r.online, true, 'every visitor is online');
    assert.equal(typeof r.name, 'string');
    assert.ok(Number.isInteger(r.lastAt));
  }
  assert.equal(rowOf(first, A.userId).lastMessage, 'A two');

  // The admin reads C: every admin socket sees C at 0, and C (only) learns its messages were read.
  admin1.send({ type: 'read', userId: C.userId });
  for (const a of [admin1, admin2]) await a.next(rowFor(C.userId, (u) => u.unread === 0));
  assert.deepEqual(await C.next(where('its read mark', (f) => f.type === 'read')), { type: 'read', seq: rowOf(first, C.userId).lastSeq });

  // The admin replies to A: A gets it, B and C get nothing, admin1 an ack, admin2 the mirror.
  const text = 'Hello A! How can I help you?';
  const ack = await reply(admin1, A.userId, text, 'a-reply-1');
  assert.equal(ack.userId, A.userId, 'the ack names the visitor');
  assert.ok(Number.isInteger(ack.seq) && typeof ack.id === 'string' && Number.isInteger(ack.at));
  const got = await A.next(messageWith(text));
  assert.equal(got.sender, 'admin');
  assert.deepEqual([got.id, got.seq, got.at], [ack.id, ack.seq, ack.at], 'A gets the stored message');
  const mirror = await admin2.next(messageWith(text));
  assert.deepEqual([mirror.sender, mirror.userId, mirror.id, mirror.seq], ['admin', A.userId, ack.id, ack.seq],
    'the second admin socket stays in step');
  await Promise.all([
    B.expectNone(() => true, 700),
    C.expectNone(() => true, 700),
    admin1.expectNone(where('admin1 own message echoed', (f) => f.type === 'message' && f.message === text), 700),
  ]);

  const later = await rows(desk.url, name);
  assert.deepEqual(later.map((r) => [r.userId, r.unread]), [[A.userId, 2], [C.userId, 0], [B.userId, 1]],
    'a reply is activity but does not change unread');
  assert.equal(rowOf(later, A.userId).lastMessage, text);
  assert.equal(rowOf(later, A.userId).lastSender, 'admin');
  assert.deepEqual(texts((await history(admin1, A.userId)).messages), ['user:A one', 'user:A two', `admin:${text}`,
    'event:assigned']); // the first reply assigns the conversation to its author
  for (const c of [admin1, admin2, A, B, C]) assertNoNulls(c.frames);
  await closeAll(admin1, admin2, A, B, C);
});

test('welcome: a new visitor gets an id, a token and an empty conversation; a return gets it back', async () => {
  const name = deskName('welcome');
  const v = await visitor(desk.url, name, { name: 'Ada' });
  const w = v.welcome;
  assert.equal(w.type, 'welcome');
  assert.ok(typeof w.userId === 'string' && w.userId.length > 0, 'userId');
  assert.ok(typeof w.token === 'string' && w.token.length >= 32, 'a long random token');
  assert.deepEqual(w.messages, []);
  assert.equal(w.name, 'Ada');
  assert.equal(w.hasMore, false);
  assert.equal(w.resumed, false);
  assert.equal(v.frames[0].type, 'welcome', 'welcome is the first frame');
  await say(v, 'first', 'c-first');
  const a = await admin(desk.url, name);
  await reply(a, v.userId, 'second');
  await v.next(messageWith('second'));
  await v.close();

  const back = await visitor(desk.url, name, { token: w.token });
  assert.equal(back.userId, w.userId, 'the token brings back the same visitor');
  assert.deepEqual(texts(back.welcome.messages), ['user:first', 'admin:second'], 'the conversation, oldest first');
  assertStoredMessage(back.welcome.messages[0], { sender: 'user', message: 'first' });
  assertStoredMessage(back.welcome.messages[1], { sender: 'admin', message: 'second' });
  assert.ok(back.welcome.messages[0].seq < back.welcome.messages[1].seq);
  assert.equal(back.welcome.messages[0].clientMsgId, 'c-first', 'the sender\'s clientMsgId is kept');
  const anon = await visitor(desk.url, name);
  assert.match(anon.welcome.name, /^Visitor [0-9A-F]{6}$/, 'a default name from the id');
  await closeAll(back, anon, a);
});

test('a visitor message: the sender gets an ack; every admin gets the message and the row', async () => {
  const name = deskName('ack');
  const admins = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await visitor(desk.url, name, { name: 'Grace' });
  const ack = await say(v, 'Hi, I need help', 'c-help');
  assert.equal(ack.type, 'ack');
  assert.equal(ack.clientMsgId, 'c-help');
  assertStoredMessage({ ...ack, sender: 'user', message: 'Hi, I need help' }, { sender: 'user', message: 'Hi, I need help' });
  for (const a of admins) {
    const m = await a.next(messageWith('Hi, I need help'));
    assert.deepEqual(
      { sender: m.sender, userId: m.userId, id: m.id, seq: m.seq, at: m.at, clientMsgId: m.clientMsgId },
      { sender: 'user', userId: v.userId, id: ack.id, seq: ack.seq, at: ack.at, clientMsgId: 'c-help' },
    );
    const { user } = await a.next(rowFor(v.userId));
    assert.equal(user.name, 'Grace');
    assert.equal(user.unread, 1);
    assert.equal(user.lastMessage, 'Hi, I need help');
    assert.equal(user.lastAt, ack.at);
    assert.equal(user.online, true);
  }
  const second = await say(v, 'anyone?');
  assert.ok(second.seq > ack.seq, 'seq increases');
  await v.expectNone(where('echo of own message', (f) => f.type === 'message'), 300);
  await closeAll(v, ...admins);
});

test('a long message is previewed in lastMessage (first 140 characters)', async () => {
  const name = deskName('preview');
  const v = await visitor(desk.url, name);
  const long = 'x'.repeat(150) + 'END';
  await say(v, long);
  const [row] = await rows(desk.url, name);
  assert.equal(row.lastMessage, long.slice(0, 140));
  const a = await admin(desk.url, name);
  assert.equal((await history(a, v.userId)).messages[0].message, long, 'stored in full');
  await closeAll(v, a);
});

test('no clientMsgId: acked and stored without one (omitted, not null); unknown fields are ignored', async () => {
  const name = deskName('optional');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  v.send({ type: 'message', message: 'no id here', futureField: { x: 1 } });
  const ack = await v.next('ack');
  assert.equal('clientMsgId' in ack, false, `ack without clientMsgId: ${JSON.stringify(ack)}`);
  const m = await a.next(messageWith('no id here'));
  assert.equal('clientMsgId' in m, false);
  a.send({ type: 'message', message: 'reply, no id', targetUserId: v.userId, extra: true });
  await a.next('ack');
  await v.next(messageWith('reply, no id'));
  const { messages } = await history(a, v.userId);
  assert.deepEqual(texts(messages), ['user:no id here', 'admin:reply, no id', 'event:assigned']);
  assert.deepEqual(messages.map((x) => 'clientMsgId' in x), [false, false, false]);
  for (const c of [a, v]) assertNoNulls(c.frames);
  await closeAll(a, v);
});

test('a name given on a later connect renames the visitor for the admins', async () => {
  const name = deskName('rename');
  const v = await visitor(desk.url, name, { name: '  Ada  ' });
  assert.equal(v.welcome.name, 'Ada', 'the name is trimmed');
  await say(v, 'hello');
  await v.close();
  const renamed = await visitor(desk.url, name, { token: v.token, name: 'Ada Lovelace' });
  assert.equal(renamed.userId, v.userId);
  assert.equal(renamed.welcome.name, 'Ada Lovelace');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).name, 'Ada Lovelace');
  const kept = await visitor(desk.url, name, { token: v.token });
  assert.equal(kept.welcome.name, 'Ada Lovelace', 'no name: the name stays');
  await closeAll(renamed, kept);
});
