// Desks are isolated: another desk sees nothing of this one, and its ids and tokens mean nothing there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectVisitor, deskName, startMiniflare } from '../helpers/desk.js';
import { admin, closeAll, errorFor, history, messageWith, reply, say, texts, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

test("desk2's admin sees nothing of desk1, and desk1's ids and tokens are unknown on desk2", async () => {
  const [desk1, desk2] = [deskName('iso-one'), deskName('iso-two')];
  const admin1 = await admin(desk.url, desk1);
  const admin2 = await admin(desk.url, desk2);
  const v1 = await visitor(desk.url, desk1);
  await say(v1, 'secret of desk 1');
  await admin1.next(messageWith('secret of desk 1'));
  await reply(admin1, v1.userId, 'desk 1 answers');
  await v1.next(messageWith('desk 1 answers'));

  await admin2.expectNone(() => true, 500);
  const fresh2 = await admin(desk.url, desk2);
  assert.deepEqual(fresh2.users, [], 'desk2 has no conversations');

  // desk1's user id is unknown on desk2, for replies, reads and history alike.
  fresh2.send({ type: 'message', message: 'cross-desk', targetUserId: v1.userId });
  await fresh2.next(errorFor('unknown_user'));
  fresh2.send({ type: 'read', userId: v1.userId });
  await fresh2.next(errorFor('unknown_user'));
  fresh2.send({ type: 'history', userId: v1.userId });
  await fresh2.next(errorFor('unknown_user'));
  await v1.expectNone(messageWith('cross-desk'), 500);

  // desk1's token is refused on desk2; a visitor of desk2 is a different person.
  await assert.rejects(connectVisitor(desk.url, desk2, { token: v1.token }), (e) => e.status === 401);
  const v2 = await visitor(desk.url, desk2);
  assert.notEqual(v2.userId, v1.userId);
  assert.deepEqual(v2.welcome.messages, []);
  await say(v2, 'hello desk 2');
  await admin2.next(messageWith('hello desk 2'));
  await admin1.expectNone(messageWith('hello desk 2'), 500);
  assert.deepEqual(texts((await history(admin1, v1.userId)).messages), ['user:secret of desk 1', 'admin:desk 1 answers',
    'event:assigned']); // the first reply assigns the conversation to its author
  await closeAll(admin1, admin2, fresh2, v1, v2);
});
