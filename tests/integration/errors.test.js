// Refused frames: every error code, to the sender only, the socket still usable, nothing stored.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare } from '../helpers/desk.js';
import { admin, closeAll, history, messageWith, reply, rowOf, rows, say, texts, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

/** Sends `frame` (an object, or a raw string/Buffer) and expects exactly the error `code` back. */
async function refused(client, frame, code) {
  if (typeof frame === 'object' && !Buffer.isBuffer(frame)) client.send(frame);
  else client.sendRaw(frame);
  const shown = Buffer.isBuffer(frame) ? '<binary>' : JSON.stringify(frame).slice(0, 120);
  const err = await client.next('error').catch((e) => { throw new Error(`${shown}: expected error ${code}. ${e.message}`); });
  assert.equal(err.code, code, `${shown} is refused with ${code}, got ${JSON.stringify(err)}`);
  assert.ok(typeof err.message === 'string' && err.message.length > 0, 'errors carry a message for people');
  assert.ok(client.open, `the socket stays open after ${code}`);
  return err;
}

const long = (n, ch = 'x') => ch.repeat(n);

test('visitor frames refused with bad_json, unknown_type, bad_frame, empty_message, too_long', async () => {
  const name = deskName('verr');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'before the errors');
  for (const raw of ['{nope', '[1,2]', '"text"', '42', 'null']) await refused(v, raw, 'bad_json');
  await refused(v, Buffer.from('{"type":"message","message":"binary"}'), 'bad_json');
  await refused(v, { type: 'dance' }, 'unknown_type');
  await refused(v, { message: 'no type at all' }, 'unknown_type');
  await refused(v, { type: 'message', message: 5 }, 'bad_frame');
  await refused(v, { type: 'message', message: 'id too long', clientMsgId: long(101) }, 'bad_frame');
  await refused(v, { type: 'message', message: 'id empty', clientMsgId: '' }, 'bad_frame');
  await refused(v, { type: 'history', before: -1 }, 'bad_frame');
  await refused(v, { type: 'message', message: '' }, 'empty_message');
  const blank = await refused(v, { type: 'message', message: ' \n\t ', clientMsgId: 'blank-1' }, 'empty_message');
  assert.equal(blank.clientMsgId, 'blank-1', 'a readable clientMsgId is echoed');
  await refused(v, { type: 'message', message: long(4001), clientMsgId: 'retry-1' }, 'too_long');
  await refused(v, { type: 'message', message: long(70 * 1024) }, 'too_long'); // a frame over 64 KiB

  // Still usable, and the refused clientMsgId was not remembered.
  const ok = await say(v, 'after the errors', 'retry-1');
  const edge = await say(v, long(4000), 'edge-ascii');
  const emoji = await say(v, long(4000, '😀'), 'edge-emoji'); // 4,000 scalar values, 8,000 UTF-16 units
  assert.ok(ok.seq < edge.seq && edge.seq < emoji.seq);

  await a.expectNone((f) => f.type === 'error', 200);
  const stored = (await history(a, v.userId)).messages;
  assert.deepEqual(stored.map((m) => (m.message.length > 100 ? m.clientMsgId : m.message)),
    ['before the errors', 'after the errors', 'edge-ascii', 'edge-emoji'], 'only the accepted messages are stored');
  assert.equal(stored[1].clientMsgId, 'retry-1');
  assert.equal(stored[3].message, long(4000, '😀'));
  assert.equal(rowOf(await rows(desk.url, name), v.userId).unread, 4, 'refused frames are not counted');
  await closeAll(a, v);
});

test('visitor frames that act as an admin are forbidden', async () => {
  const name = deskName('forbid');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const other = await visitor(desk.url, name);
  await say(other, 'private to other');
  await a.next(messageWith('private to other'));
  await refused(v, { type: 'message', message: 'pretending', targetUserId: other.userId }, 'forbidden');
  await refused(v, { type: 'message', message: 'pretending', targetUserId: v.userId }, 'forbidden');
  await refused(v, { type: 'read', userId: other.userId }, 'forbidden');
  await refused(v, { type: 'history', userId: other.userId }, 'forbidden');

  await Promise.all([other.expectNone(() => true, 500), a.expectNone(messageWith('pretending'), 500)]);
  assert.equal(rowOf(await rows(desk.url, name), other.userId).unread, 1, 'the read was not applied');
  assert.equal(rowOf(await rows(desk.url, name), v.userId), undefined, 'nothing stored for v');
  assert.deepEqual(texts((await history(a, other.userId)).messages), ['user:private to other']);
  await say(v, 'still usable');
  await closeAll(a, v, other);
});

test('admin frames refused: missing_target is never broadcast, unknown_user, and the rest', async () => {
  const name = deskName('aerr');
  const [a, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const A = await visitor(desk.url, name);
  const B = await visitor(desk.url, name);
  await say(A, 'from A');
  await say(B, 'from B');

  await refused(a, { type: 'message', message: 'to whom?', clientMsgId: 'mt-1' }, 'missing_target');
  await refused(a, { type: 'message', message: 'to a ghost', targetUserId: 'no-such-user' }, 'unknown_user');
  await refused(a, { type: 'read', userId: 'no-such-user' }, 'unknown_user');
  await refused(a, { type: 'history', userId: 'no-such-user' }, 'unknown_user');
  await refused(a, '{"type":', 'bad_json');
  await refused(a, { type: 'shout' }, 'unknown_type');
  await refused(a, { type: 'message', message: 5, targetUserId: A.userId }, 'bad_frame');
  await refused(a, { type: 'history', userId: A.userId, before: -5 }, 'bad_frame');
  await refused(a, { type: 'message', message: '   ', targetUserId: A.userId }, 'empty_message');
  await refused(a, { type: 'message', message: long(4001), targetUserId: A.userId }, 'too_long');

  await Promise.all([
    A.expectNone(() => true, 700),
    B.expectNone(() => true, 700),
    a2.expectNone((f) => f.type === 'message' && f.sender === 'admin', 700),
    a2.expectNone((f) => f.type === 'error', 700),
  ]);
  assert.deepEqual(texts((await history(a, A.userId)).messages), ['user:from A'], 'nothing stored for A');
  assert.deepEqual(texts((await history(a, B.userId)).messages), ['user:from B'], 'nothing stored for B');
  const users = await rows(desk.url, name);
  assert.equal(users.length, 2, 'no conversation was created');
  assert.deepEqual([rowOf(users, A.userId).unread, rowOf(users, B.userId).unread], [1, 1]);

  await reply(a, A.userId, 'still usable', 'mt-1');
  await A.next(messageWith('still usable'));
  await closeAll(a, a2, A, B);
});
