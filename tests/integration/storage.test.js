// What the desk stores: dedupe by clientMsgId, durable reads, history paging and its limits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare } from '../helpers/desk.js';
import {
  ackFor, admin, closeAll, history, messageWith, reply, rowFor, rowOf, rows, say, texts, visitor, where,
} from './flows.js';

let desk;
// Hundreds of frames from one socket, on purpose: limits out of the way.
before(async () => { desk = await startMiniflare({ bindings: BULK_LIMITS }); });
after(async () => { await desk?.dispose(); });

test('a repeated clientMsgId from a visitor is stored once and acked with the original id/seq', async () => {
  const name = deskName('dedupe');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const first = await say(v, 'only once please', 'dup-1');
  await a.next(messageWith('only once please'));
  await say(v, 'something else');
  const again = await say(v, 'only once please', 'dup-1');
  assert.deepEqual([again.id, again.seq, again.at], [first.id, first.seq, first.at], 'the retry is acked as the original');
  await a.expectNone(messageWith('only once please'), 500);

  const { messages } = await history(a, v.userId);
  assert.deepEqual(texts(messages), ['user:only once please', 'user:something else'], 'stored once');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).unread, 2, 'counted once');

  // Another tab of the same visitor retrying (e.g. after a reconnect) is the same sender.
  const tab2 = await visitor(desk.url, name, { token: v.token });
  const fromTab2 = await say(tab2, 'only once please', 'dup-1');
  assert.deepEqual([fromTab2.id, fromTab2.seq], [first.id, first.seq], 'a retry from another tab is deduped');
  await tab2.close();

  // The same clientMsgId from another visitor is another message.
  const other = await visitor(desk.url, name);
  const theirs = await say(other, 'only once please', 'dup-1');
  assert.notEqual(theirs.id, first.id);
  assert.ok(theirs.seq > again.seq);
  await closeAll(a, v, other);
});

test('a repeated clientMsgId from an admin to the same visitor is stored and delivered once', async () => {
  const name = deskName('dedupeadmin');
  const [a1, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await visitor(desk.url, name);
  await say(v, 'hi');
  const first = await reply(a1, v.userId, 'on it', 'adm-1');
  await v.next(messageWith('on it'));
  await a2.next(messageWith('on it'));
  const again = await reply(a1, v.userId, 'on it', 'adm-1');
  assert.deepEqual([again.id, again.seq, again.at], [first.id, first.seq, first.at]);
  await Promise.all([v.expectNone(messageWith('on it'), 500), a2.expectNone(messageWith('on it'), 500)]);
  assert.deepEqual(texts((await history(a1, v.userId)).messages), ['user:hi', 'admin:on it', 'event:assigned']); // the first reply assigns it

  // The same clientMsgId to another conversation is another message.
  const w = await visitor(desk.url, name);
  await say(w, 'me too');
  const toW = await reply(a1, w.userId, 'on it', 'adm-1');
  assert.notEqual(toW.id, first.id);
  assert.equal(toW.userId, w.userId);
  await w.next(messageWith('on it'));
  await closeAll(a1, a2, v, w);
});

test('read is durable: a new admin socket sees 0, and unread counts on from there', async () => {
  const name = deskName('read');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'one');
  await say(v, 'two');
  await a.next(rowFor(v.userId, (u) => u.unread === 2));
  a.send({ type: 'read', userId: v.userId });
  const { user } = await a.next(rowFor(v.userId, (u) => u.unread === 0));
  assert.equal(user.lastMessage, 'two', 'reading changes only unread');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).unread, 0, 'a fresh snapshot has it at 0');
  await reply(a, v.userId, 'an admin reply does not count');
  await say(v, 'three');
  await a.next(rowFor(v.userId, (u) => u.unread === 1));
  assert.equal(rowOf(await rows(desk.url, name), v.userId).unread, 1, 'only messages after the read count');
  await closeAll(a, v);
});

test('history: oldest first, pages with before/limit, hasMore; a visitor may read its own', async () => {
  const name = deskName('history');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const seqs = [];
  for (let i = 1; i <= 5; i += 1) {
    seqs.push((await say(v, `v${i}`)).seq);
    seqs.push((await reply(a, v.userId, `a${i}`)).seq);
  }
  const all = await history(a, v.userId);
  // The first reply assigns the conversation to its author: an event, in the admin's history only.
  assert.deepEqual(texts(all.messages), ['user:v1', 'admin:a1', 'event:assigned', 'user:v2', 'admin:a2', 'user:v3', 'admin:a3',
    'user:v4', 'admin:a4', 'user:v5', 'admin:a5']);
  assert.deepEqual(all.messages.filter((m) => m.sender !== 'event').map((m) => m.seq), seqs);
  assert.equal(all.hasMore, false);

  const page1 = await history(a, v.userId, { limit: 4 });
  assert.deepEqual(page1.messages.map((m) => m.message), ['v4', 'a4', 'v5', 'a5'], 'the newest 4, oldest first');
  assert.equal(page1.hasMore, true);
  const page2 = await history(a, v.userId, { limit: 4, before: page1.messages[0].seq });
  assert.deepEqual(page2.messages.map((m) => m.message), ['v2', 'a2', 'v3', 'a3']);
  assert.equal(page2.hasMore, true);
  const page3 = await history(a, v.userId, { limit: 4, before: page2.messages[0].seq });
  assert.deepEqual(texts(page3.messages), ['user:v1', 'admin:a1', 'event:assigned']);
  assert.equal(page3.hasMore, false);

  const own = await history(v, undefined, { limit: 3, before: seqs[4] });
  assert.deepEqual(own.messages.map((m) => m.message), ['a1', 'v2', 'a2'], 'a visitor pages its own conversation');
  assert.equal(own.userId, v.userId);
  const ownFirst = await history(v, undefined, { limit: 3, before: seqs[2] });
  assert.deepEqual(texts(ownFirst.messages), ['user:v1', 'admin:a1'], "a visitor's page skips the assignment event");
  assert.equal(ownFirst.hasMore, false, 'nothing older that the visitor may see');
  const ownById = await history(v, v.userId, { limit: 1 });
  assert.deepEqual(ownById.messages.map((m) => m.message), ['a5'], 'its own userId is allowed');
  await closeAll(a, v);
});

test('welcome holds the latest 200 messages with hasMore; history returns at most 200', async () => {
  const name = deskName('limits');
  const v = await visitor(desk.url, name);
  const total = 205;
  for (let i = 1; i <= total; i += 1) v.send({ type: 'message', message: `m${i}`, clientMsgId: `bulk-${i}` });
  const acks = [];
  for (let i = 1; i <= total; i += 1) acks.push(await v.next(ackFor(`bulk-${i}`), { timeout: 20_000 }));
  assert.ok(acks.every((x, i) => i === 0 || x.seq > acks[i - 1].seq), 'acks in seq order');
  await v.close();

  const back = await visitor(desk.url, name, { token: v.token });
  assert.equal(back.welcome.messages.length, 200);
  assert.equal(back.welcome.messages[0].message, 'm6', 'the latest 200');
  assert.equal(back.welcome.messages.at(-1).message, `m${total}`);
  assert.equal(back.welcome.hasMore, true);
  const a = await admin(desk.url, name);
  const capped = await history(a, back.userId, { limit: 1000 });
  assert.equal(capped.messages.length, 200, 'limit is capped at 200');
  assert.equal(capped.hasMore, true);
  const dflt = await history(a, back.userId);
  assert.equal(dflt.messages.length, 100, 'default limit 100');
  assert.equal(dflt.messages.at(-1).message, `m${total}`);
  const rest = await history(back, undefined, { before: back.welcome.messages[0].seq });
  assert.deepEqual(rest.messages.map((m) => m.message), ['m1', 'm2', 'm3', 'm4', 'm5']);
  assert.equal(rest.hasMore, false);
  await back.expectNone(where('anything but answers', (f) => f.type !== 'history'), 100);
  await closeAll(a, back);
});
