// State survives a restart: a new Miniflare on the same persisted storage has every visitor,
// message, unread count, read mark and clientMsgId of the old one.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connectVisitor, deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, closeAll, eventFor, history, messageWith, reply, rowOf, rows, say, texts, visitor } from './flows.js';

let runtime;
after(async () => { await runtime?.dispose(); });

test('a new Miniflare on the same persist dir has the desk as it was', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-persist-');
  const name = deskName('persist');
  runtime = await startMiniflare({ persistDir });
  let a = await admin(runtime.url, name);
  const A = await visitor(runtime.url, name, { name: 'Alice' });
  const B = await visitor(runtime.url, name);
  const first = await say(A, 'A one', 'a-one');
  await say(A, 'A two');
  const lastB = await say(B, 'B one');
  a.send({ type: 'read', userId: B.userId });
  await a.next((f) => f.type === 'user' && f.user.userId === B.userId && f.user.unread === 0);
  const answer = await reply(a, A.userId, 'answer before restart');
  const assigned = await a.next(eventFor(A.userId, 'assigned')); // the first reply assigns it: an event
  const epoch = a.snapshot.epoch;
  await closeAll(a, A, B);
  await runtime.dispose();

  runtime = await startMiniflare({ persistDir });
  const back = await visitor(runtime.url, name, { token: A.token });
  assert.equal(back.userId, A.userId, 'the visitor token is still valid');
  assert.equal(back.welcome.name, 'Alice');
  assert.deepEqual(texts(back.welcome.messages), ['user:A one', 'user:A two', 'admin:answer before restart']);
  assert.equal(back.welcome.epoch, epoch, 'the desk epoch is stored, not regenerated');
  const backB = await visitor(runtime.url, name, { token: B.token });
  assert.equal(backB.userId, B.userId);

  a = await admin(runtime.url, name);
  assert.deepEqual(a.users.map((r) => [r.userId, r.unread]), [[A.userId, 2], [B.userId, 0]],
    'unread counts and the read mark survived; newest activity first');
  assert.equal(rowOf(a.users, A.userId).lastMessage, 'answer before restart');
  assert.equal(a.snapshot.seq, Math.max(answer.seq, assigned.seq), "the desk's latest seq survived");
  assert.deepEqual(texts((await history(a, B.userId)).messages), ['user:B one']);

  // seq keeps increasing, a pre-restart clientMsgId is still recognised, and routing still works.
  const next = await say(back, 'A three');
  assert.ok(next.seq > answer.seq && next.seq > lastB.seq, 'seq continues after the restart');
  const retry = await say(back, 'A one', 'a-one');
  assert.deepEqual([retry.id, retry.seq], [first.id, first.seq], 'dedupe survives the restart');
  await a.next(messageWith('A three'));
  await reply(a, B.userId, 'hello again B');
  await backB.next(messageWith('hello again B'));
  await back.expectNone(messageWith('hello again B'), 300);
  assert.equal(rowOf(await rows(runtime.url, name), A.userId).unread, 3);
  await assert.rejects(connectVisitor(runtime.url, name, { token: 'f'.repeat(64) }), (e) => e.status === 401);
  await closeAll(a, back, backB);
});
