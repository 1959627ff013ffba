// State survives hibernation: the desk object is evicted while idle (sockets stay open), restarts
// on the next frame, and still knows who is who, the unread counts and the history.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { STARTED_LINE, deskName, startMiniflare } from '../helpers/desk.js';
import { act, admin, closeAll, history, messageWith, newAgent, reply, rowFor, rowOf, rows, say, texts, visitor } from './flows.js';

// workerd evicts an idle object with only hibernatable sockets after about 10 s.
const IDLE_MS = 15_000;

let desk;
// Its own runtime, so every "desk object started" line is this test's desk.
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

test('after idling past eviction, the restarted object routes with state intact', { timeout: 60_000 }, async () => {
  const name = deskName('hibernate');
  const a = await admin(desk.url, name);
  const A = await visitor(desk.url, name);
  const B = await visitor(desk.url, name);
  await say(A, 'A one');
  await say(A, 'A two');
  await say(B, 'B one');
  a.send({ type: 'read', userId: B.userId });
  await a.next(rowFor(B.userId, (u) => u.unread === 0));
  await B.next((f) => f.type === 'read'); // B learns its message was read
  assert.equal(desk.logs.count(STARTED_LINE), 1, `one instance so far:\n${desk.logs.text}`);

  // Idle: nothing is sent, and nothing new may arrive (no socket is closed or poked while hibernated).
  [a, A, B].forEach((c) => c.drain());
  await Promise.all([a, A, B].map((c) => c.expectNone(() => true, IDLE_MS)));
  assert.ok([a, A, B].every((c) => c.open), 'the sockets stay open through hibernation');

  // Route again through the same sockets: a new instance must start to handle it.
  const mark = desk.logs.lines.length;
  const ack = await say(A, 'A three', 'after-sleep');
  await desk.waitForLog(STARTED_LINE, { since: mark, timeout: 10_000 }); // the second start: it was evicted
  const m = await a.next(messageWith('A three'));
  assert.equal(m.userId, A.userId, 'the woken object knows which visitor the socket is');
  assert.equal(m.id, ack.id);
  const { user } = await a.next(rowFor(A.userId));
  assert.equal(user.unread, 3, 'the unread count came back from storage (2 + 1)');

  await reply(a, A.userId, 'good morning A');
  await A.next(messageWith('good morning A'));
  await B.expectNone(() => true, 500);
  assert.deepEqual(texts((await history(a, A.userId)).messages), ['user:A one', 'user:A two', 'user:A three', 'admin:good morning A',
    'event:assigned']); // the first reply assigns the conversation to its author
  const users = await rows(desk.url, name);
  assert.deepEqual([rowOf(users, A.userId).unread, rowOf(users, B.userId).unread], [3, 0], 'the read of B survived');
  assert.ok(ack.seq > (await history(a, B.userId)).messages[0].seq, 'seq keeps increasing after a restart');

  // A retry of a message sent before the sleep is still recognised.
  const retry = await say(A, 'A three', 'after-sleep');
  assert.equal(retry.id, ack.id);
  await closeAll(a, A, B);
});

test('a snooze outlives eviction: the alarm starts a new instance, which reopens it', { timeout: 60_000 }, async () => {
  const name = deskName('snooze-sleep');
  const a = await admin(desk.url, name);
  const A = await visitor(desk.url, name);
  await say(A, 'call me back later');
  await a.next(rowFor(A.userId, (u) => u.lastMessage === 'call me back later' && u.status === 'open'));
  const until = Date.now() + IDLE_MS;
  a.drain(); // the row of the message (open) must not pass for the reopening
  a.send({ type: 'snooze', userId: A.userId, until });
  await a.next(rowFor(A.userId, (u) => u.status === 'snoozed'));
  const mark = desk.logs.lines.length;
  // Nothing is sent meanwhile: only the desk's own alarm can reopen it.
  const { user } = await a.next(rowFor(A.userId, (u) => u.status === 'open'), { timeout: IDLE_MS + 20_000 });
  assert.ok(Date.now() >= until, 'not before its time');
  assert.equal(user.unread, 1, 'the row came back from storage intact');
  assert.ok(desk.logs.count(STARTED_LINE, mark) >= 1, `the object was evicted meanwhile and the alarm started it again:\n${desk.logs.text}`);
  assert.deepEqual(texts((await history(a, A.userId)).messages), ['user:call me back later', 'event:snoozed', 'event:reopened']);
  await A.expectNone((f) => f.type !== 'pong', 300);
  await closeAll(a, A);
});

test("an agent's socket keeps who it is through eviction: name on replies, role on rights", { timeout: 60_000 }, async () => {
  const name = deskName('agent-sleep');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const s = await admin(desk.url, name, { token: ana.token });
  const V = await visitor(desk.url, name);
  await say(V, 'hello before the sleep');
  await Promise.all([owner, s].map((c) => c.next(rowFor(V.userId, (u) => u.lastMessage === 'hello before the sleep'))));
  [owner, s, V].forEach((c) => c.drain());
  const mark = desk.logs.lines.length;
  await Promise.all([owner, s, V].map((c) => c.expectNone(() => true, IDLE_MS)));

  const ack = await reply(s, V.userId, 'Ana after the sleep');
  await desk.waitForLog(STARTED_LINE, { since: mark, timeout: 10_000 }); // it was evicted: a new instance answered
  const live = await V.next(messageWith('Ana after the sleep'));
  assert.equal(live.agentName, 'Ana');
  const mirror = await owner.next(messageWith('Ana after the sleep'));
  assert.deepEqual([mirror.agentId, mirror.agentName, mirror.seq], [ana.agentId, 'Ana', ack.seq]);
  s.send({ type: 'invite', name: 'Eve', role: 'agent' });
  assert.equal((await s.next('error')).code, 'forbidden', 'still an agent, not an owner');
  s.send({ type: 'list', view: 'mine' });
  assert.deepEqual((await s.next('list')).users.map((r) => r.userId), [V.userId], "'mine' is still Ana's");
  await closeAll(owner, s, V);
});

test('a woken object answers from storage what the last one held in memory: status, assignee, read mark, retries', { timeout: 60_000 }, async () => {
  const name = deskName('cache-sleep');
  const a = await admin(desk.url, name);
  const V = await visitor(desk.url, name);
  const first = await say(V, 'first question', 'v-first');
  const answer = await reply(a, V.userId, 'first answer', 'a-first');
  await act(a, { type: 'read', userId: V.userId }, (u) => u.unread === 0);
  await act(a, { type: 'resolve', userId: V.userId }, (u) => u.status === 'resolved');
  // Retries in the same instance: acked with the originals, nothing stored, nothing reopened.
  assert.equal((await say(V, 'first question', 'v-first')).id, first.id);
  assert.equal((await reply(a, V.userId, 'first answer', 'a-first')).id, answer.id);

  [a, V].forEach((c) => c.drain());
  const mark = desk.logs.lines.length;
  await Promise.all([a, V].map((c) => c.expectNone(() => true, IDLE_MS)));

  // The same retries reach a new instance, which has nothing in memory yet.
  assert.equal((await say(V, 'first question', 'v-first')).id, first.id);
  await desk.waitForLog(STARTED_LINE, { since: mark, timeout: 10_000 });
  assert.equal((await reply(a, V.userId, 'first answer', 'a-first')).id, answer.id);
  await a.expectNone(rowFor(V.userId), 300); // a retry changes no row
  await say(V, 'one more thing', 'v-second');
  const { user } = await a.next(rowFor(V.userId, (u) => u.lastMessage === 'one more thing'));
  assert.deepEqual([user.status, user.unread, user.assigneeId], ['open', 1, 'owner'],
    'reopened from the stored status, one unread after the stored read mark, still assigned');
  assert.deepEqual(texts((await history(a, V.userId)).messages),
    ['user:first question', 'admin:first answer', 'event:assigned', 'event:resolved', 'event:reopened', 'user:one more thing']);
  await closeAll(a, V);
});
