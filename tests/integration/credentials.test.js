// Guessing admin credentials is throttled per client address (10 failures in 10 minutes, then 429
// even for the right credential), and a short ADMIN_TOKEN keeps admin access closed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, deskName, startMiniflare, upgradeStatus } from '../helpers/desk.js';
import { acceptInvite, admin, invite, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const socketWith = (name, ip, headers) => upgradeStatus(desk.url, `/desks/${name}/admin`, { 'CF-Connecting-IP': ip, ...headers });
const checkWith = async (name, ip, token) => {
  const res = await fetch(`${desk.url}/desks/${name}/admin/check`, {
    method: 'POST', headers: { 'CF-Connecting-IP': ip, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* empty body */ }
  return { status: res.status, headers: Object.fromEntries(res.headers), body, text };
};

function assertThrottled(res, what) {
  assert.equal(res.status, 429, `${what}: want 429, got ${res.status} ${res.text}`);
  assert.equal(res.body.code, 'rate_limited', `${what}: ${res.text}`);
  const retry = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 600, `${what}: Retry-After in seconds, got ${res.headers['retry-after']}`);
}

test('10 wrong credentials from one address: the 11th attempt, even the right ADMIN_TOKEN, is 429', async () => {
  const name = deskName('guess');
  const ip = '203.0.113.7';
  for (let i = 0; i < 10; i += 1) {
    const res = await socketWith(name, ip, { Authorization: `Bearer wrong-guess-${i}` });
    assert.equal(res.status, 401, `guess ${i + 1} is an ordinary 401: ${res.text}`);
  }
  assertThrottled(await socketWith(name, ip, { Authorization: `Bearer ${ADMIN_TOKEN}` }), 'the right token over Bearer');
  assertThrottled(await socketWith(name, ip, { 'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${hex(ADMIN_TOKEN)}` }),
    'the right token in the subprotocol');
  assertThrottled(await checkWith(name, ip, ADMIN_TOKEN), 'admin/check with the right token');
  assertThrottled(await checkWith(deskName('another-desk'), ip, ADMIN_TOKEN), 'another desk, same address');

  // Another address is unaffected, and so are visitors at this address.
  assert.equal((await socketWith(name, '203.0.113.8', { Authorization: `Bearer ${ADMIN_TOKEN}` })).status, 101, 'another address');
  assert.equal((await checkWith(name, '203.0.113.9', ADMIN_TOKEN)).status, 204);
  assert.equal((await upgradeStatus(desk.url, `/desks/${name}/visitor`, { 'CF-Connecting-IP': ip })).status, 101, 'visitors are not throttled');
});

test('failures add up across the socket, the subprotocol and the check endpoint', async () => {
  const name = deskName('mixed');
  const ip = '203.0.113.21';
  for (let i = 0; i < 4; i += 1) assert.equal((await socketWith(name, ip, { Authorization: `Bearer nope-${i}` })).status, 401);
  for (let i = 0; i < 3; i += 1) {
    assert.equal((await socketWith(name, ip, { 'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${hex(`nope-${i}`)}` })).status, 401);
  }
  for (let i = 0; i < 3; i += 1) assert.equal((await checkWith(name, ip, `nope-${i}`)).status, 401);
  assertThrottled(await checkWith(name, ip, ADMIN_TOKEN), 'the 11th attempt');
});

test('nine failures leave the right credential working; right credentials are never counted', async () => {
  const name = deskName('nine');
  const ip = '203.0.113.33';
  for (let i = 0; i < 9; i += 1) assert.equal((await checkWith(name, ip, `nope-${i}`)).status, 401);
  for (let i = 0; i < 15; i += 1) assert.equal((await checkWith(name, ip, ADMIN_TOKEN)).status, 204, `right credential ${i + 1}`);
  const a = await admin(desk.url, name, { headers: { 'CF-Connecting-IP': ip } });
  assert.equal(a.snapshot.type, 'users');
  await a.close();
});

test('guessing invite codes is throttled too (contract: failed credentials per address)', async () => {
  const name = deskName('codes');
  const owner = await admin(desk.url, name);
  const { code } = await invite(owner, { name: 'Ana' });
  const ip = '203.0.113.44';
  for (let i = 0; i < 10; i += 1) {
    const res = await acceptInvite(desk.url, name, `${i}`.padStart(64, 'a'), 'Mallory', { headers: { 'CF-Connecting-IP': ip } });
    assert.equal(res.status, 401, `guess ${i + 1}: ${JSON.stringify(res.body)}`);
  }
  const res = await acceptInvite(desk.url, name, code, 'Ana', { headers: { 'CF-Connecting-IP': ip } });
  assert.equal(res.status, 429, `the 11th attempt at guessing codes: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.code, 'rate_limited');
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  const elsewhere = await acceptInvite(desk.url, name, code, 'Ana', { headers: { 'CF-Connecting-IP': '203.0.113.45' } });
  assert.equal(elsewhere.status, 200, 'the real invitee, from another address');
  await owner.close();
});

test('an ADMIN_TOKEN under 32 characters keeps admin access closed (503 admin_disabled); 32 opens it', async () => {
  const short = 'x'.repeat(31);
  const weak = await startMiniflare({ bindings: { ADMIN_TOKEN: short } });
  try {
    const name = deskName('short');
    for (const headers of [{ Authorization: `Bearer ${short}` }, { 'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${hex(short)}` }, {}]) {
      const res = await upgradeStatus(weak.url, `/desks/${name}/admin`, headers);
      assert.equal(res.status, 503, `${JSON.stringify(headers)}: ${res.text}`);
      assert.equal(res.body.code, 'admin_disabled');
    }
    const check = await fetch(`${weak.url}/desks/${name}/admin/check`, { method: 'POST', headers: { Authorization: `Bearer ${short}` } });
    assert.equal(check.status, 503, 'the check says disabled too, so clients keep their credential and wait');
    assert.equal((await upgradeStatus(weak.url, `/desks/${name}/visitor`, {})).status, 101, 'visitors still work');
  } finally {
    await weak.dispose();
  }
  const enough = 'y'.repeat(32);
  const ok = await startMiniflare({ bindings: { ADMIN_TOKEN: enough } });
  try {
    const a = await admin(ok.url, deskName('long-enough'), { token: enough });
    assert.equal(a.snapshot.me.agentId, 'owner');
    await a.close();
    const v = await visitor(ok.url, deskName('long-enough'));
    await v.close();
  } finally {
    await ok.dispose();
  }
});
