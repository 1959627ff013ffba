// Hostile and malformed team frames: each gets its one documented code, the socket stays usable,
// nobody else hears anything, and the desk's state (rows, history, team) reads back unchanged.
// Agents and visitors of another desk mean nothing here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare } from '../helpers/desk.js';
import { admin, closeAll, history, invite, newAgent, rows, say, visitor } from './flows.js';

let desk;
const w = {};
before(async () => {
  desk = await startMiniflare({ bindings: BULK_LIMITS }); // many refusals in a row: no frame limit in the way
  w.name = deskName('team-err');
  w.owner = await admin(desk.url, w.name);
  w.obs = await admin(desk.url, w.name);
  w.V = await visitor(desk.url, w.name, { name: 'Vera' });
  await say(w.V, 'hello');
  w.ana = await newAgent(desk.url, w.name, w.owner, { name: 'Ana' });
  const other = deskName('team-err-other');
  w.owner2 = await admin(desk.url, other);
  w.X = await visitor(desk.url, other);
  await say(w.X, 'on the other desk');
  w.foreign = await newAgent(desk.url, other, w.owner2, { name: 'Fred' });
  w.foreignPending = await invite(w.owner2, { name: 'Penny' });
  await w.owner.next((f) => f.type === 'user' && f.user.userId === w.V.userId);
  await w.obs.next((f) => f.type === 'user' && f.user.userId === w.V.userId);
});
after(async () => {
  await closeAll(w.owner, w.obs, w.V, w.owner2, w.X);
  await desk?.dispose();
});

const agentsOf = async (a) => {
  a.send({ type: 'agents' });
  return (await a.next('agents')).agents.map(({ online, ...x }) => x); // presence aside
};

test('malformed and foreign team frames are refused with their documented code; nothing changes', async (t) => {
  const V = w.V.userId;
  const rowsBefore = await rows(desk.url, w.name);
  const historyBefore = await history(w.owner, V);
  const teamBefore = await agentsOf(w.owner);
  const team2Before = await agentsOf(w.owner2);
  [w.owner, w.obs, w.V, w.owner2, w.X].forEach((c) => c.drain());

  const cases = [
    ['note without userId', { type: 'note', message: 'x' }, 'bad_frame'],
    ['note userId an array', { type: 'note', userId: [V], message: 'x' }, 'bad_frame'],
    ['note message a number', { type: 'note', userId: V, message: 5 }, 'bad_frame'],
    ['note with a control character', { type: 'note', userId: V, message: 'bell\u0007' }, 'bad_frame'],
    ['note empty', { type: 'note', userId: V, message: '', clientMsgId: 'n-empty' }, 'empty_message', 'n-empty'],
    ['note of zero-width spaces', { type: 'note', userId: V, message: '\u200b\u200b' }, 'empty_message'],
    ['note too long', { type: 'note', userId: V, message: 'x'.repeat(4001), clientMsgId: 'n-long' }, 'too_long', 'n-long'],
    ['note clientMsgId over 100', { type: 'note', userId: V, message: 'x', clientMsgId: 'c'.repeat(101) }, 'bad_frame'],
    ["note on another desk's visitor", { type: 'note', userId: w.X.userId, message: 'x' }, 'unknown_user'],
    ['resolve an empty userId', { type: 'resolve', userId: '' }, 'unknown_user'],
    ["resolve another desk's visitor", { type: 'resolve', userId: w.X.userId }, 'unknown_user'],
    ['unread userId a number', { type: 'unread', userId: 5 }, 'bad_frame'],
    ['snooze until a string', { type: 'snooze', userId: V, until: String(Date.now() + 60_000) }, 'bad_frame'],
    ['snooze until 1.5 (1970)', { type: 'snooze', userId: V, until: 1.5 }, 'bad_frame'],
    ['snooze until 1e400 (out of range: unreadable, as in the corpus)', `{"type":"snooze","userId":"${V}","until":1e400}`, 'bad_json'],
    ['snooze until NaN', `{"type":"snooze","userId":"${V}","until":NaN}`, 'bad_json'],
    ['assign agentId an object', { type: 'assign', userId: V, agentId: {} }, 'bad_frame'],
    ["assign another desk's agent", { type: 'assign', userId: V, agentId: w.foreign.agentId }, 'unknown_agent'],
    ["assign another desk's pending invite", { type: 'assign', userId: V, agentId: w.foreignPending.agentId }, 'unknown_agent'],
    ["revoke another desk's agent", { type: 'revoke', agentId: w.foreign.agentId }, 'unknown_agent'],
    ['list view ALL', { type: 'list', view: 'ALL' }, 'bad_frame'],
    ['list view an object', { type: 'list', view: { $ne: 1 } }, 'bad_frame'],
    ['search query an array', { type: 'search', query: ['a'] }, 'bad_frame'],
    ['invite with a bidi override in the name', { type: 'invite', name: 'Eve\u202Eadmin', role: 'agent' }, 'bad_frame'],
    ['invite role an array', { type: 'invite', name: 'Eve', role: ['admin'] }, 'bad_frame'],
    ['profile name a bidi override', { type: 'profile', name: '\u202E' }, 'bad_frame'],
    ['type Resolve in capitals', { type: 'Resolve', userId: V }, 'unknown_type'],
  ];
  for (const [label, frame, code, echo] of cases) {
    await t.test(label, async () => {
      assert.deepEqual(w.owner.pending, [], 'nothing unanswered before');
      if (typeof frame === 'string') w.owner.sendRaw(frame);
      else w.owner.send(frame);
      const got = await w.owner.next(() => true);
      assert.equal(got.type, 'error', `${label}: refused, got ${JSON.stringify(got).slice(0, 200)}`);
      assert.equal(got.code, code, `${label}: ${JSON.stringify(got)}`);
      assert.equal(got.clientMsgId, echo, 'clientMsgId echoed exactly when readable');
      w.owner.sendRaw('{"type":"ping"}');
      assert.deepEqual(await w.owner.next(() => true), { type: 'pong' }, 'the socket still answers');
    });
  }

  await t.test('nobody else heard anything; rows, history and both teams are unchanged', async () => {
    await Promise.all([w.obs, w.V, w.owner2, w.X].map((c) => c.expectNone(() => true, 300)));
    assert.deepEqual(await rows(desk.url, w.name), rowsBefore);
    assert.deepEqual(await history(w.owner, V), historyBefore);
    assert.deepEqual(await agentsOf(w.owner), teamBefore);
    assert.deepEqual(await agentsOf(w.owner2), team2Before);
  });
});

test("an agent's token opens only its own desk; another desk's invite code is unknown here", async () => {
  const res = await fetch(`${desk.url}/desks/${w.name}/admin/check`, {
    method: 'POST', headers: { Authorization: `Bearer ${w.foreign.token}`, 'CF-Connecting-IP': '198.18.0.1' },
  });
  assert.equal(res.status, 401, "Fred's token is of the other desk");
  const accept = await fetch(`${desk.url}/desks/${w.name}/agents/accept`, {
    method: 'POST', headers: { 'CF-Connecting-IP': '198.18.0.2', 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: w.foreignPending.code, name: 'Penny' }),
  });
  assert.equal(accept.status, 401, "another desk's invite");
});
