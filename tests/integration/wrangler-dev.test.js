// The desk under `wrangler dev` (as `make dev` runs it): routing, auth from --var, state kept across a
// restart of wrangler dev on the same --persist-to folder, and malformed upgrades refused before any desk.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deskName, startWranglerDev, tempDir, upgradeStatus } from '../helpers/desk.js';
import {
  MALFORMED, act, admin, closeAll, eventFor, history, messageWith, newAgent, noVisitorFrom, reply, rowFor, rowOf, say, texts,
  visitor,
} from './flows.js';

let dev;
after(async () => { await dev?.stop(); });

test('wrangler dev: A/B routing, auth, and state intact after a restart on the same storage', { timeout: 180_000 }, async () => {
  const persistDir = tempDir('desk-wrangler-persist-');
  const name = deskName('wrangler');
  dev = await startWranglerDev({ persistDir });

  assert.equal((await upgradeStatus(dev.url, `/desks/${name}/admin`, {})).status, 401, 'admin needs the secret');
  assert.equal((await upgradeStatus(dev.url, `/desks/${name}/visitor`, { Upgrade: null })).status, 426);
  const a = await admin(dev.url, name);
  const a2 = await admin(dev.url, name, { via: 'subprotocol' });
  assert.equal(a2.protocol, 'support-desk.v1');
  const A = await visitor(dev.url, name);
  const B = await visitor(dev.url, name);
  await say(A, 'A one');
  // request.cf is there under wrangler dev (fixed local values): the desk adds country and city
  A.send({ type: 'context', url: 'https://shop.example/pricing', timeZone: 'Europe/Berlin' });
  const where = await a.next((f) => f.type === 'context' && f.userId === A.userId);
  assert.deepEqual([typeof where.country, typeof where.city, where.url], ['string', 'string', 'https://shop.example/pricing'],
    JSON.stringify(where));
  await say(A, 'A two');
  await say(B, 'B one');
  await a.next(messageWith('B one'));
  a.send({ type: 'read', userId: B.userId });
  await a2.next((f) => f.type === 'user' && f.user.userId === B.userId && f.user.unread === 0);
  await B.next((f) => f.type === 'read'); // B learns its message was read
  const ack = await reply(a, A.userId, 'hello A from wrangler');
  assert.equal((await A.next(messageWith('hello A from wrangler'))).id, ack.id);
  assert.equal((await a2.next(messageWith('hello A from wrangler'))).userId, A.userId);
  await B.expectNone(() => true, 500);
  await closeAll(a, a2, A, B);

  await dev.stop();
  dev = await startWranglerDev({ persistDir });
  const back = await visitor(dev.url, name, { token: A.token });
  assert.equal(back.userId, A.userId, 'the token is valid after the restart');
  assert.deepEqual(texts(back.welcome.messages), ['user:A one', 'user:A two', 'admin:hello A from wrangler']);
  const fresh = await admin(dev.url, name);
  assert.deepEqual([rowOf(fresh.users, A.userId)?.unread, rowOf(fresh.users, B.userId)?.unread], [2, 0],
    'unread counts and the read survived the restart');
  assert.deepEqual(texts((await history(fresh, B.userId)).messages), ['user:B one']);
  const after3 = await say(back, 'A three');
  assert.ok(after3.seq > ack.seq, 'seq continues');
  await fresh.next(messageWith('A three'));
  await closeAll(back, fresh);
});

test('wrangler dev: the team inbox end to end (invite, accept, agent sign-in, named reply, snooze alarm, throttling)', { timeout: 180_000 }, async () => {
  await dev?.stop();
  dev = await startWranglerDev();
  const name = deskName('wrangler-team');
  const owner = await admin(dev.url, name);
  assert.deepEqual(owner.snapshot.me, { agentId: 'owner', name: 'Owner', role: 'owner' });
  const ana = await newAgent(dev.url, name, owner, { name: 'Ana' });
  const s = await admin(dev.url, name, { token: ana.token, via: 'subprotocol' });
  assert.equal(s.snapshot.me.agentId, ana.agentId);
  const V = await visitor(dev.url, name);
  await say(V, 'hello from a page');
  await reply(s, V.userId, 'Ana here');
  assert.equal((await V.next(messageWith('Ana here'))).agentName, 'Ana');
  await owner.next(rowFor(V.userId, (r) => r.assigneeId === ana.agentId));

  const until = Date.now() + 1500;
  await act(owner, { type: 'snooze', userId: V.userId, until }, (r) => r.status === 'snoozed');
  await owner.next(rowFor(V.userId, (r) => r.status === 'open'), { timeout: 15_000 });
  assert.ok(Date.now() >= until);
  await owner.next(eventFor(V.userId, 'reopened'));

  const ip = '203.0.113.99';
  for (let i = 0; i < 10; i += 1) {
    assert.equal((await upgradeStatus(dev.url, `/desks/${name}/admin`, { Authorization: `Bearer nope-${i}`, 'CF-Connecting-IP': ip })).status, 401);
  }
  const locked = await upgradeStatus(dev.url, `/desks/${name}/admin`, { Authorization: `Bearer ${ana.token}`, 'CF-Connecting-IP': ip });
  assert.equal(locked.status, 429, locked.text);
  assert.ok(Number(locked.headers['retry-after']) >= 1);
  await closeAll(owner, s, V);
});

test('wrangler dev: an upgrade without Upgrade: websocket creates no visitor', { timeout: 180_000 }, async () => {
  await dev?.stop();
  // One new visitor per address: a malformed upgrade that created one would use it up.
  dev = await startWranglerDev({ vars: { NEW_VISITORS_PER_IP: '1', NEW_VISITORS_PER_MIN: '0.01' } });
  await noVisitorFrom(dev.url, deskName('wrangler-plain'), '203.0.113.76', MALFORMED.filter(([h]) => 'Upgrade' in h));
});

// Known gap (SECURITY.md): wrangler dev's proxy answers the client's handshake itself and opens a
// fresh, well-formed one to workerd: the Worker sees GET, version 13, a new key and no body whatever
// the client sent, so it cannot refuse these; the runtime behind the proxy does not either.
test('wrangler dev: malformed upgrades (version 8, bad key, HEAD, POST with a body) create no visitor', { timeout: 60_000,
  todo: "wrangler dev's proxy re-does the handshake: the Worker never sees the malformed one (SECURITY.md, known gap)" }, async () => {
  await noVisitorFrom(dev.url, deskName('wrangler-handshakes'), '203.0.113.77',
    [...MALFORMED.filter(([h]) => !('Upgrade' in h)), [{}, { method: 'HEAD' }, 405]]);
});
