// Deleting a conversation and blocking a visitor (owner and admins only): the visitor's sockets
// close with 4003, its token and verified id are refused, it is gone from lists, counts and search.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IDENTITY_SECRET, connectVisitor, deskName, startMiniflare, userHash } from '../helpers/desk.js';
import {
  admin, agentSocket, closeAll, eventFor, listAll, listPage, newAgent, refusal, removedOf, rowFor, rows, say, search, visitor,
} from './flows.js';

let desk;
before(async () => { desk = await startMiniflare({ bindings: { IDENTITY_SECRET } }); });
after(async () => { await desk?.dispose(); });

const checkToken = (name, token) =>
  fetch(`${desk.url}/desks/${name}/visitor/check`, { method: 'POST', body: JSON.stringify({ token }) }).then((r) => r.status);
const refusedUpgrade = (name, opts) => connectVisitor(desk.url, name, opts).then(
  (c) => { c.close(); return { status: 101 }; },
  (err) => ({ status: err.status, body: JSON.parse(err.body || '{}') }),
);

test('delete: owner and admins only; visitor, messages and search entries go; its sockets close with 4003; every inbox is told', async () => {
  const name = deskName('delete');
  const owner = await admin(desk.url, name);
  const ana = await agentSocket(desk.url, name, await newAgent(desk.url, name, owner, { name: 'Ana' }));
  const v = await visitor(desk.url, name, { name: 'Zed Quokkaman' });
  const tab2 = await visitor(desk.url, name, { token: v.token });
  const first = await say(v, 'my parcel zanzibarite never came');
  const w = await visitor(desk.url, name);
  await say(w, 'another customer');

  assert.equal((await refusal(ana, { type: 'delete', userId: v.userId })).code, 'forbidden');
  assert.equal((await search(owner, 'zanzibarite')).results.length, 1, 'an agent changed nothing');
  assert.equal((await refusal(owner, { type: 'delete', userId: 'no-such-visitor' })).code, 'unknown_user');

  owner.send({ type: 'delete', userId: v.userId });
  await Promise.all([owner.next(removedOf(v.userId)), ana.next(removedOf(v.userId))]);
  const closes = await Promise.all([v.closed, tab2.closed]);
  assert.deepEqual(closes.map((c) => c.code), [4003, 4003], 'every tab of the visitor closes with 4003');

  assert.deepEqual((await search(owner, 'zanzibarite')).results, [], 'its messages are gone from search');
  assert.deepEqual((await search(owner, 'quokkaman')).results, [], 'and its name');
  assert.deepEqual((await listAll(owner, 'all')).rows.map((r) => r.userId), [w.userId]);
  assert.deepEqual((await rows(desk.url, name)).map((r) => r.userId), [w.userId], 'a fresh inbox never sees it');
  assert.equal((await refusal(owner, { type: 'history', userId: v.userId })).code, 'unknown_user');
  assert.equal(await checkToken(name, v.token), 401, 'its token is refused: the widget starts afresh');
  assert.equal((await refusedUpgrade(name, { token: v.token })).status, 401);
  const later = await say(w, 'after the delete');
  assert.ok(later.seq > first.seq, 'seqs go on');
  await closeAll(owner, ana, w);
});

test('block: sockets close 4003, token and verified id refused with 403, gone from lists, counts and search; reopen unblocks', async () => {
  const name = deskName('block');
  const owner = await admin(desk.url, name);
  const ben = await agentSocket(desk.url, name, await newAgent(desk.url, name, owner, { name: 'Ben', role: 'admin' }));
  const ana = await agentSocket(desk.url, name, await newAgent(desk.url, name, owner, { name: 'Ana' }));
  const v = await visitor(desk.url, name);
  await say(v, 'buy xylospam now');
  const identity = { userId: 'customer-9', userHash: userHash(name, 'customer-9') };
  const c = await visitor(desk.url, name, { identity });
  await say(c, 'a verified customer');
  const w = await visitor(desk.url, name);
  await say(w, 'a good customer');

  assert.equal((await refusal(ana, { type: 'block', userId: v.userId })).code, 'forbidden');
  assert.equal((await refusal(ana, { type: 'list', view: 'blocked' })).code, 'forbidden');
  ben.send({ type: 'block', userId: v.userId });
  const event = await owner.next(eventFor(v.userId, 'blocked'));
  assert.equal(event.message, 'Ben blocked this');
  await ana.next(rowFor(v.userId, (u) => u.status === 'blocked'));
  assert.equal((await v.closed).code, 4003);

  const again = await refusedUpgrade(name, { token: v.token });
  assert.deepEqual([again.status, again.body.code], [403, 'blocked']);
  assert.equal(await checkToken(name, v.token), 403, 'the check says blocked: the widget stops');
  for (const view of ['open', 'unassigned', 'all']) {
    const { rows: listed, counts } = await listAll(owner, view);
    assert.ok(!listed.some((r) => r.userId === v.userId), `${view} leaves it out`);
    assert.deepEqual([counts.open, counts.blocked], [2, 1]);
  }
  assert.deepEqual((await listAll(owner, 'blocked')).rows.map((r) => r.userId), [v.userId]);
  assert.equal((await listPage(ana, 'open')).counts.blocked, undefined, 'agents are not told the blocked count');
  assert.deepEqual((await search(owner, 'xylospam')).results, []);
  assert.ok(!(await rows(desk.url, name)).some((r) => r.userId === v.userId), 'not in a fresh users snapshot');

  // A verified customer blocked is refused on every device.
  owner.send({ type: 'block', userId: c.userId });
  assert.equal((await c.closed).code, 4003);
  const device = await refusedUpgrade(name, { identity });
  assert.deepEqual([device.status, device.body.code], [403, 'blocked']);

  // Reopening (owner or admin) lets the visitor back in, with its conversation.
  assert.equal((await refusal(ana, { type: 'reopen', userId: v.userId })).code, 'forbidden');
  assert.equal((await refusal(owner, { type: 'resolve', userId: v.userId })).code, 'forbidden');
  owner.send({ type: 'reopen', userId: v.userId });
  assert.equal((await ben.next(eventFor(v.userId, 'unblocked'))).message, 'Owner unblocked this');
  const back = await visitor(desk.url, name, { token: v.token });
  assert.deepEqual(back.welcome.messages.map((m) => m.message), ['buy xylospam now']);
  await closeAll(owner, ben, ana, w, back);
});
