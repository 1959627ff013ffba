// Delivery across sockets: two tabs of one visitor, offline visitors, and presence in admin rows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare } from '../helpers/desk.js';
import { admin, closeAll, messageWith, reply, rowFor, rowOf, rows, say, texts, visitor, where } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

test('two tabs of one visitor: both get the admin reply; the other tab gets the own message', async () => {
  const name = deskName('tabs');
  const a = await admin(desk.url, name);
  const tab1 = await visitor(desk.url, name);
  const tab2 = await visitor(desk.url, name, { token: tab1.token });
  assert.equal(tab2.userId, tab1.userId, 'the second tab is the same visitor');
  const stranger = await visitor(desk.url, name);

  const ack = await say(tab1, 'typed in tab 1', 'tab1-1');
  const copy = await tab2.next(messageWith('typed in tab 1'));
  assert.deepEqual(
    { sender: copy.sender, id: copy.id, seq: copy.seq, clientMsgId: copy.clientMsgId },
    { sender: 'user', id: ack.id, seq: ack.seq, clientMsgId: 'tab1-1' },
    'tab 2 shows the message tab 1 sent',
  );
  await tab1.expectNone(where('own message echoed to the sending tab', (f) => f.type === 'message'), 300);

  await reply(a, tab1.userId, 'reply for both tabs');
  const [m1, m2] = await Promise.all([tab1, tab2].map((t) => t.next(messageWith('reply for both tabs'))));
  assert.equal(m1.sender, 'admin');
  assert.equal(m1.id, m2.id, 'both tabs got the same stored message');
  await stranger.expectNone(() => true, 500);

  const [row] = (await rows(desk.url, name)).filter((r) => r.userId === tab1.userId);
  assert.equal(row.unread, 1, 'one visitor, one conversation, whichever tab wrote');
  await closeAll(a, tab1, tab2, stranger);
});

test('an admin in a second tab stays in step: visitor messages, replies, reads', async () => {
  const name = deskName('admintabs');
  const [a1, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await visitor(desk.url, name);
  await say(v, 'hello desk');
  for (const a of [a1, a2]) await a.next(messageWith('hello desk'));
  const ack = await reply(a1, v.userId, 'from tab one', 'a1-1');
  const mirror = await a2.next(messageWith('from tab one'));
  assert.deepEqual([mirror.sender, mirror.userId, mirror.id, mirror.clientMsgId], ['admin', v.userId, ack.id, 'a1-1']);
  await a2.next(rowFor(v.userId, (u) => u.lastMessage === 'from tab one'));
  a2.send({ type: 'read', userId: v.userId });
  await a1.next(rowFor(v.userId, (u) => u.unread === 0));
  await a2.next(rowFor(v.userId, (u) => u.unread === 0));
  await closeAll(a1, a2, v);
});

test('offline delivery: a reply to a visitor with no socket is in welcome.messages on return', async () => {
  const name = deskName('offline');
  const a = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const { token, userId } = v;
  await say(v, 'I will be right back');
  await v.close();
  await a.next(rowFor(userId, (u) => u.online === false));

  const ack = await reply(a, userId, 'answered while you were away');
  assert.equal(ack.userId, userId);
  await a.expectNone(where('an error for an offline target', (f) => f.type === 'error'), 300);

  const back = await visitor(desk.url, name, { token });
  assert.equal(back.userId, userId);
  assert.deepEqual(texts(back.welcome.messages), ['user:I will be right back', 'admin:answered while you were away']);
  assert.equal(back.welcome.messages[1].id, ack.id);
  await back.expectNone(where('the reply delivered twice', (f) => f.type === 'message'), 300);
  await closeAll(a, back);
});

test('presence: online until the last tab closes, then a user row with online false', async () => {
  const name = deskName('presence');
  const tab1 = await visitor(desk.url, name);
  await say(tab1, 'here');
  const a = await admin(desk.url, name);
  assert.equal(rowOf(a.users, tab1.userId).online, true);
  const tab2 = await visitor(desk.url, name, { token: tab1.token });

  await tab1.close();
  assert.equal((await tab1.closed).code, 1000, 'a close is answered with a close, not a 1006');
  await a.expectNone(rowFor(tab1.userId, (u) => u.online === false), 700);
  await tab2.close();
  const { user } = await a.next(rowFor(tab1.userId, (u) => u.online === false));
  assert.equal(user.unread, 1, 'the rest of the row is unchanged');
  assert.equal(rowOf(await rows(desk.url, name), tab1.userId).online, false, 'a fresh snapshot agrees');

  const back = await visitor(desk.url, name, { token: tab1.token });
  await a.next(rowFor(tab1.userId, (u) => u.online === true));
  await closeAll(a, back);
});

test('a visitor that drops without a close handshake goes offline too', async () => {
  const name = deskName('drop');
  const v = await visitor(desk.url, name);
  await say(v, 'about to vanish');
  const a = await admin(desk.url, name);
  v.ws.terminate();
  await a.next(rowFor(v.userId, (u) => u.online === false), { timeout: 10_000 });
  await a.close();
});
