// State survives a restart: a new Miniflare on the same persisted storage has every visitor,
// message, unread count, read mark and clientMsgId of the old one.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connectVisitor, deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import {
  acceptInvite, act, admin, closeAll, eventFor, history, invite, listPage, messageWith, newAgent, note, reply, rowOf, rows, say, texts, visitor,
} from './flows.js';

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

test('the team survives a restart: agents, tokens, revocations, pending invites, statuses, notes', { timeout: 60_000 }, async () => {
  await runtime?.dispose();
  const persistDir = tempDir('desk-persist-team-');
  const name = deskName('persist-team');
  runtime = await startMiniflare({ persistDir });
  const owner = await admin(runtime.url, name);
  const ana = await newAgent(runtime.url, name, owner, { name: 'Ana' });
  const bo = await newAgent(runtime.url, name, owner, { name: 'Bo' });
  const cy = await invite(owner, { name: 'Cy', email: 'cy@example.com' });
  owner.send({ type: 'revoke', agentId: bo.agentId });
  await owner.next('agents');
  owner.send({ type: 'profile', name: 'Olga' });
  await owner.next('profile');
  const anaSock = await admin(runtime.url, name, { token: ana.token });
  const V = await visitor(runtime.url, name);
  const W = await visitor(runtime.url, name);
  await say(V, 'V asks');
  await say(W, 'W asks');
  await reply(anaSock, V.userId, 'Ana answers'); // assigns V to Ana
  await owner.next(eventFor(V.userId, 'assigned'));
  await act(owner, { type: 'resolve', userId: V.userId }, (r) => r.status === 'resolved');
  await note(owner, V.userId, 'a note that must survive');
  const until = Date.now() + 3600_000;
  await act(owner, { type: 'snooze', userId: W.userId, until }, (r) => r.status === 'snoozed');
  const historyBefore = await history(owner, V.userId);
  await closeAll(owner, anaSock, V, W);
  await runtime.dispose();

  runtime = await startMiniflare({ persistDir });
  const owner2 = await admin(runtime.url, name);
  assert.deepEqual(owner2.snapshot.me, { agentId: 'owner', name: 'Olga', role: 'owner' }, 'the owner\'s name survived');
  const ana2 = await admin(runtime.url, name, { token: ana.token });
  assert.deepEqual(ana2.snapshot.me, { agentId: ana.agentId, name: 'Ana', role: 'agent' }, "Ana's token still signs her in");
  await assert.rejects(admin(runtime.url, name, { token: bo.token, headers: { 'CF-Connecting-IP': '198.18.1.1' } }),
    (e) => e.status === 401, 'a revocation survives');
  const accepted = await acceptInvite(runtime.url, name, cy.code, 'Cy');
  assert.equal(accepted.status, 200, `a pending invite survives: ${JSON.stringify(accepted.body)}`);
  owner2.send({ type: 'agents' });
  const team = (await owner2.next('agents')).agents.map((x) => [x.name, x.role, x.pending ?? false]).sort();
  assert.deepEqual(team, [['Ana', 'agent', false], ['Cy', 'agent', false], ['Olga', 'owner', false]]);

  const byId = Object.fromEntries(owner2.users.map((r) => [r.userId, r]));
  assert.deepEqual([byId[V.userId].status, byId[V.userId].assigneeId, byId[V.userId].assigneeName], ['resolved', ana.agentId, 'Ana']);
  assert.deepEqual([byId[W.userId].status, byId[W.userId].snoozedUntil], ['snoozed', until]);
  assert.deepEqual(await history(owner2, V.userId), historyBefore, 'notes, events and agent names, as they were');
  assert.deepEqual(texts(historyBefore.messages),
    ['user:V asks', 'admin:Ana answers', 'event:assigned', 'event:resolved', 'note:a note that must survive']);
  const counts = (await listPage(owner2, 'all')).counts;
  assert.deepEqual(counts, { open: 0, mine: 0, unassigned: 0, snoozed: 1, resolved: 1, blocked: 0 });
  await closeAll(owner2, ana2);
});
