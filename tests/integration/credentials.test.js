// Guessing admin credentials is throttled per client address across every desk of the deployment (10
// failures in 10 minutes, then 429 even for the right credential), and a short ADMIN_TOKEN keeps
// admin access closed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, deskName, startMiniflare, upgradeStatus } from '../helpers/desk.js';
import { admin, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

const hex = (s) => Buffer.from(s, 'utf8').toString('hex');

// Failures are counted in fixed 10-minute windows (`desk::team::AUTH_FAILURE_WINDOW_MS`), so a
// run of guesses that crosses a window's edge starts counting again there: a fresh-clone CI run
// failed once that way (an 11th guess at ~09:10:00 was a 401). Each counting test starts well
// inside one window: with the edge under 5 s away (the desk's clock is this machine's), it waits
// for the edge to pass.
const AUTH_FAILURE_WINDOW_MS = 10 * 60 * 1000;
async function insideOneWindow() {
  const left = AUTH_FAILURE_WINDOW_MS - (Date.now() % AUTH_FAILURE_WINDOW_MS);
  if (left < 5000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}
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
  await insideOneWindow();
  const ip = '203.0.113.7';
  for (let i = 0; i < 10; i += 1) {
    const res = await socketWith(name, ip, { Authorization: `Bearer wrong-guess-${i}` });
    assert.equal(res.status, 401, `guess ${i + 1} is an ordinary 401: ${res.text}`);
  }
  assertThrottled(await socketWith(name, ip, { Authorization: `Bearer ${ADMIN_TOKEN}` }), 'the right token over Bearer');
  assertThrottled(await socketWith(name, ip, { 'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${hex(ADMIN_TOKEN)}` }),
    'the right token in the subprotocol');
  assertThrottled(await checkWith(name, ip, ADMIN_TOKEN), 'admin/check with the right token');

  // Another address is unaffected, and so are visitors at this address.
  assert.equal((await socketWith(name, '203.0.113.8', { Authorization: `Bearer ${ADMIN_TOKEN}` })).status, 101, 'another address');
  assert.equal((await checkWith(name, '203.0.113.9', ADMIN_TOKEN)).status, 204);
  assert.equal((await upgradeStatus(desk.url, `/desks/${name}/visitor`, { 'CF-Connecting-IP': ip })).status, 101, 'visitors are not throttled');
});

test('failures add up across the socket, the subprotocol and the check endpoint', async () => {
  const name = deskName('mixed');
  await insideOneWindow();
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
  await insideOneWindow();
  const ip = '203.0.113.33';
  for (let i = 0; i < 9; i += 1) assert.equal((await checkWith(name, ip, `nope-${i}`)).status, 401);
  for (let i = 0; i < 15; i += 1) assert.equal((await checkWith(name, ip, ADMIN_TOKEN)).status, 204, `right credential ${i + 1}`);
  const a = await admin(desk.url, name, { headers: { 'CF-Connecting-IP': ip } });
  assert.equal(a.snapshot.type, 'users');
  await a.close();
});

// Failed sign-ins are counted deployment-wide, by the Limiter object of the client's network.
test('the count is per address, not per desk: guesses spread over invented desk names are throttled too', async () => {
  // ADMIN_TOKEN opens every desk and desk names are free, so a count kept per desk would give an
  // attacker 10 guesses for every name it invents.
  const ip = '203.0.113.51';
  await insideOneWindow();
  for (let i = 0; i < 10; i += 1) {
    assert.equal((await socketWith(deskName(`spread-${i}`), ip, { Authorization: `Bearer nope-${i}` })).status, 401);
  }
  assertThrottled(await socketWith(deskName('spread-next'), ip, { Authorization: 'Bearer nope-again' }), 'an 11th guess on a new desk');
  assertThrottled(await checkWith(deskName('spread-check'), ip, ADMIN_TOKEN), 'the right token on yet another desk');
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
