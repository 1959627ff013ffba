// Reconnecting with ?since=<seq>&epoch=<epoch>: exactly what was missed, or a fresh snapshot.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare } from '../helpers/desk.js';
import { ackFor, admin, closeAll, messageWith, reply, say, texts, visitor, where } from './flows.js';

let desk;
// Hundreds of frames from one socket, on purpose: limits out of the way.
before(async () => { desk = await startMiniflare({ bindings: BULK_LIMITS }); });
after(async () => { await desk?.dispose(); });

test('a visitor resumes with exactly the messages of its conversation after since', async () => {
  const name = deskName('vresume');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const other = await visitor(desk.url, name);
  const seen = await say(v, 'before the drop');
  await v.close();
  await reply(a, v.userId, 'missed one');
  await say(other, 'not yours');
  await reply(a, v.userId, 'missed two');

  const back = await visitor(desk.url, name, { token: v.token, since: seen.seq, epoch: v.welcome.epoch });
  assert.equal(back.welcome.resumed, true);
  assert.deepEqual(texts(back.welcome.messages), ['admin:missed one', 'admin:missed two'], 'no gap, no duplicate');
  assert.ok(back.welcome.messages.every((m) => m.seq > seen.seq));

  const stale = await visitor(desk.url, name, { token: v.token, since: seen.seq, epoch: 'not-the-desk-epoch' });
  assert.equal(stale.welcome.resumed, false, 'another epoch gets the fresh snapshot');
  assert.deepEqual(texts(stale.welcome.messages), ['user:before the drop', 'admin:missed one', 'admin:missed two']);
  const plain = await visitor(desk.url, name, { token: v.token });
  assert.equal(plain.welcome.resumed, false);
  await closeAll(a, other, back, stale, plain);
});

test('an admin resumes: a fresh users snapshot, then every message after since in seq order', async () => {
  const name = deskName('aresume');
  const a = await admin(desk.url, name);
  const colleague = await admin(desk.url, name);
  const [A, B] = [await visitor(desk.url, name), await visitor(desk.url, name)];
  await say(A, 'seen by the admin');
  await a.next(messageWith('seen by the admin'));
  const { seq: since } = await colleague.next(messageWith('seen by the admin'));
  const epoch = a.snapshot.epoch;
  await a.close();

  await say(B, 'missed B');
  await reply(colleague, A.userId, 'missed colleague reply');
  await say(A, 'missed A');

  const back = await admin(desk.url, name, { since, epoch });
  assert.equal(back.snapshot.resumed, true);
  assert.deepEqual(back.users.map((r) => r.userId), [A.userId, B.userId], 'users is always fresh');
  const replay = [];
  for (let i = 0; i < 4; i += 1) replay.push(await back.next('message'));
  assert.deepEqual(replay.map((m) => [m.sender, m.userId, m.event?.kind ?? m.message]), [
    ['user', B.userId, 'missed B'],
    ['admin', A.userId, 'missed colleague reply'],
    ['event', A.userId, 'assigned'], // the first reply assigns the conversation to its author
    ['user', A.userId, 'missed A'],
  ]);
  assert.ok(replay.every((m, i) => m.seq > (i ? replay[i - 1].seq : since)), 'in seq order, after since');
  await back.expectNone(where('a replayed message twice', (f) => f.type === 'message'), 300);

  const stale = await admin(desk.url, name, { since, epoch: 'other-epoch' });
  assert.equal(stale.snapshot.resumed, false, 'another epoch: reload instead');
  await stale.expectNone((f) => f.type === 'message', 300);
  await closeAll(colleague, A, B, back, stale);
});

test('more than 500 missed messages: the fresh snapshot instead of a replay', { timeout: 60_000 }, async () => {
  const name = deskName('bigresume');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'start');
  const { seq: since } = await a.next(messageWith('start'));
  await a.close();
  const total = 501;
  for (let i = 1; i <= total; i += 1) v.send({ type: 'message', message: `n${i}`, clientMsgId: `n-${i}` });
  for (let i = 1; i <= total; i += 1) await v.next(ackFor(`n-${i}`), { timeout: 30_000 });
  const back = await admin(desk.url, name, { since, epoch: a.snapshot.epoch });
  assert.equal(back.snapshot.resumed, false);
  assert.equal(back.users[0].unread, total + 1);
  await back.expectNone((f) => f.type === 'message', 300);
  await closeAll(v, back);
});
