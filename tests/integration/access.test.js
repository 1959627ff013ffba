// Cloudflare Access sign-in: a `Cf-Access-Jwt-Assertion` on the admin endpoints is verified by the
// Worker (RS256 against the team's key set, aud, iss, exp) before anything reaches the desk, and
// signs in the agent its email names. The "team" here is a local HTTP server serving the key set
// at /cdn-cgi/access/certs (it counts the fetches), and tokens are signed with keys made here.
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import {
  ADMIN_TOKEN, DeskClient, connectAdmin, deskName, rawRequest, startMiniflare, upgradeStatus, where,
} from '../helpers/desk.js';
import { admin, closeAll } from './flows.js';

const b64url = (data) => Buffer.from(data).toString('base64url');

/** An RSA key pair and its public JWK under `kid`, as Cloudflare publishes them. */
function makeKey(kid) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A local stand-in for `https://<team>.cloudflareaccess.com`: serves `keys` at the certs path. */
async function startTeam(keys) {
  const team = { keys, fetches: 0 };
  team.server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/cdn-cgi/access/certs') {
      team.fetches += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: team.keys.map((k) => k.jwk), public_cert: { kid: team.keys[0]?.kid, cert: '' } }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => team.server.listen(0, '127.0.0.1', resolve));
  team.origin = `http://127.0.0.1:${team.server.address().port}`;
  team.close = () => new Promise((resolve) => team.server.close(resolve));
  return team;
}

/** Claims as Access issues them for `email`, valid for five minutes. */
function claimsFor(team, aud, email, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { aud: [aud], email, exp: now + 300, iat: now, nbf: now, iss: team.origin, type: 'app', sub: randomBytes(8).toString('hex'), ...extra };
}

/** A compact RS256 JWT over `claims`, signed by `key` (header fields may be overridden). */
function sign(key, claims, header = {}) {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  return `${input}.${b64url(signature)}`;
}

const AUD = randomBytes(32).toString('hex');
const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const assertion = (jwt) => ({ 'Cf-Access-Jwt-Assertion': jwt });
const adminPath = (name) => `/desks/${name}/admin`;
const checkAdmin = (url, name, headers) =>
  rawRequest(url, `/desks/${name}/admin/check`, { method: 'POST', headers: Object.entries(headers) });

/** A 401 `unauthorized` whose message names the Access rule that failed (and never the token). */
function assertAccessRefusal(answer, reason, jwt, label) {
  assert.equal(answer.status, 401, `${label}: ${answer.text}`);
  assert.equal(answer.body.code, 'unauthorized', label);
  assert.match(answer.body.message, reason, label);
  if (jwt.length > 8) assert.ok(!answer.text.includes(jwt.split('.')[1] || jwt), `${label}: the token is not echoed`);
}

let team;
let desk;
let key;
let otherKey;
before(async () => {
  key = makeKey('k1');
  otherKey = makeKey('k1'); // the same kid, another key: a forger's
  team = await startTeam([key]);
  desk = await startMiniflare({ bindings: { ACCESS_TEAM_DOMAIN: team.origin, ACCESS_AUD: AUD } });
});
after(async () => {
  await desk?.dispose();
  await team?.close();
});

/** Each bad token, with the reason its 401 must give. */
function badTokens() {
  const ana = (extra) => claimsFor(team, AUD, 'ana@example.com', extra);
  const none = `${b64url(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${b64url(JSON.stringify(ana()))}.`;
  return [
    ['wrong aud', sign(key, ana({ aud: ['another-application'] })), /aud/],
    ['wrong iss', sign(key, ana({ iss: 'https://evil.cloudflareaccess.com' })), /iss/],
    ['expired', sign(key, ana({ exp: Math.floor(Date.now() / 1000) - 3600 })), /expired/],
    ['not yet valid', sign(key, ana({ nbf: Math.floor(Date.now() / 1000) + 3600 })), /nbf/],
    ['signed by another key with the same kid', sign(otherKey, ana()), /signature/],
    ['claims altered after signing', (() => {
      const [h, , s] = sign(key, ana()).split('.');
      return `${h}.${b64url(JSON.stringify(ana({ email: 'owner@example.com' })))}.${s}`;
    })(), /signature/],
    ['alg none', none, /RS256/],
    ['HS256', sign(key, ana(), { alg: 'HS256' }), /RS256/],
    ['no kid', sign(key, ana(), { kid: undefined }), /kid/],
    ['no email', sign(key, ana({ email: undefined })), /email/],
    ['garbage', 'not-a-jwt', /compact JWT/],
    ['garbage base64', '!!!.@@@.###', /base64/],
    ['oversize', `${sign(key, ana())}${'A'.repeat(9000)}`, /too large/],
  ];
}

test('a bad Access token is refused with 401 before the desk, even beside the right admin secret', async () => {
  const name = deskName('access-bad');
  await invite(desk.url, name, 'Ana', 'ana@example.com');
  // Controls: Ana's good token opens the desk, and so does the secret alone, so each refusal
  // below is the token's.
  const good = sign(key, claimsFor(team, AUD, 'ana@example.com'));
  assert.equal((await upgradeStatus(desk.url, adminPath(name), assertion(good))).status, 101);
  assert.equal((await checkAdmin(desk.url, name, assertion(good))).status, 204);
  assert.equal((await upgradeStatus(desk.url, adminPath(name), bearer)).status, 101);
  // The forwarded request is a rebuilt one (it carries the verified email): it still upgrades.
  const socket = await accessSocket(desk.url, name, good);
  assert.equal((await socket.next('users')).me.name, 'Ana');
  await socket.close();
  for (const [label, jwt, reason] of badTokens()) {
    assertAccessRefusal(await upgradeStatus(desk.url, adminPath(name), { ...bearer, ...assertion(jwt) }), reason, jwt, label);
    assertAccessRefusal(await checkAdmin(desk.url, name, { ...bearer, ...assertion(jwt) }), reason, jwt, `${label} (check)`);
  }
});

test('a forged token is refused with 401 when it is the only credential', async () => {
  const name = deskName('access-alone');
  await invite(desk.url, name, 'Ana', 'ana@example.com');
  for (const [label, jwt, reason] of badTokens()) {
    assertAccessRefusal(await upgradeStatus(desk.url, adminPath(name), assertion(jwt)), reason, jwt, label);
    assertAccessRefusal(await checkAdmin(desk.url, name, assertion(jwt)), reason, jwt, `${label} (check)`);
  }
});

test('visitor endpoints ignore Access tokens', async () => {
  const name = deskName('access-visitor');
  const answer = await upgradeStatus(desk.url, `/desks/${name}/visitor`, assertion('not-a-jwt'));
  assert.equal(answer.status, 101, answer.text);
});

test('the key set is fetched once and cached; a rotated key is fetched once; made-up kids do not refetch without bound', async () => {
  // A team and a Worker of its own, so the fetch counts start from nothing.
  const first = makeKey('first');
  const own = await startTeam([first]);
  const worker = await startMiniflare({ bindings: { ACCESS_TEAM_DOMAIN: own.origin, ACCESS_AUD: AUD } });
  try {
    const name = deskName('access-rotate');
    await invite(worker.url, name, 'Ana', 'ana@example.com');
    const token = (k, email = 'ana@example.com') => sign(k, claimsFor(own, AUD, email));
    const status = async (jwt) => upgradeStatus(worker.url, adminPath(name), assertion(jwt));
    assert.equal(own.fetches, 0);
    for (let i = 0; i < 3; i++) assert.equal((await status(token(first))).status, 101);
    assert.equal(own.fetches, 1, 'fetched on first use, then cached');

    // The team rotates: a token signed with the new key names a kid the cache lacks.
    const second = makeKey('second');
    own.keys = [second, first];
    assert.equal((await status(token(second))).status, 101, 'a token of the rotated key is accepted');
    assert.equal(own.fetches, 2, 'the unknown kid caused exactly one refetch');
    assert.equal((await status(token(second))).status, 101);
    assert.equal((await status(token(first))).status, 101);
    assert.equal(own.fetches, 2, 'both keys now come from the cache');

    // Tokens naming made-up kids (good claims, a real signature) right after that refetch.
    for (let i = 0; i < 20; i++) {
      const bogus = { ...first, kid: `bogus-${randomBytes(4).toString('hex')}` };
      const jwt = token(bogus);
      assertAccessRefusal(await status(jwt), /key the team does not publish/, jwt, bogus.kid);
    }
    // At most one refetch per 5 s: none if this ran within 5 s of the rotation, one if it did not.
    assert.ok(own.fetches <= 3, `20 unknown kids caused ${own.fetches - 2} refetches`);
  } finally {
    await worker.dispose();
    await own.close();
  }
});

test('when the key set cannot be fetched, tokens are refused with 401 and the failure is logged', async () => {
  // The team server answers 404 for anything but /cdn-cgi/access/certs at its root.
  const origin = `${team.origin}/elsewhere`;
  const worker = await startMiniflare({ bindings: { ACCESS_TEAM_DOMAIN: origin, ACCESS_AUD: AUD } });
  try {
    const jwt = sign(key, claimsFor({ origin }, AUD, 'ana@example.com'));
    assertAccessRefusal(await upgradeStatus(worker.url, adminPath(deskName('access-down')), { ...bearer, ...assertion(jwt) }),
      /could not be fetched/, jwt, 'certs 404');
    await worker.waitForLog(/Access keys: .* answered 404/);
  } finally {
    await worker.dispose();
  }
});

// ---- with agents: the desk maps the verified email to an agent ------------------------------------

/** The owner invites `email` as an agent named `agentName`; resolves with the `invited` frame. */
async function invite(url, name, agentName, email) {
  const owner = await admin(url, name);
  owner.send({ type: 'invite', name: agentName, role: 'agent', email });
  const invited = await owner.next('invited');
  await owner.close();
  return invited;
}

/** An admin socket opened with only an Access token (no admin secret); resolves once open. */
const accessSocket = (url, name, jwt, headers = {}) =>
  DeskClient.open(`${url.replace(/^http/, 'ws')}${adminPath(name)}`, { headers: { ...assertion(jwt), ...headers } });

test('an invited email signs in with its Access token alone, as that agent', async () => {
  const name = deskName('access-agent');
  await invite(desk.url, name, 'Ana', 'ana@example.com');
  const socket = await accessSocket(desk.url, name, sign(key, claimsFor(team, AUD, 'Ana@Example.com')));
  const users = await socket.next('users');
  assert.equal(users.me.name, 'Ana');
  assert.equal(users.me.role, 'agent');
  assert.ok(users.me.agentId && users.me.agentId !== 'owner', JSON.stringify(users.me));
  // The same agent on a second sign-in (the invite was accepted by the first).
  const again = await accessSocket(desk.url, name, sign(key, claimsFor(team, AUD, 'ana@example.com')));
  assert.deepEqual((await again.next('users')).me, users.me);
  await closeAll(socket, again);
});

test('a valid Access token for an email nobody was invited with is 401', async () => {
  const name = deskName('access-stranger');
  await invite(desk.url, name, 'Ana', 'ana@example.com');
  const jwt = sign(key, claimsFor(team, AUD, 'mallory@example.com'));
  const answer = await upgradeStatus(desk.url, adminPath(name), assertion(jwt));
  assert.equal(answer.status, 401, answer.text);
  assert.equal(answer.body.code, 'unauthorized');
  assert.match(answer.body.message, /Access email/, 'refused by the desk: the token itself was good');
  assert.equal((await checkAdmin(desk.url, name, assertion(jwt))).status, 401);
  // Ana, invited by that email, is still let in: the refusal was about the stranger.
  const ana = await accessSocket(desk.url, name, sign(key, claimsFor(team, AUD, 'ana@example.com')));
  assert.equal((await ana.next('users')).me.name, 'Ana');
  await ana.close();
});

test('a client-sent X-Desk-Access-Email signs nobody in', async () => {
  const name = deskName('access-forged');
  await invite(desk.url, name, 'Ana', 'ana@example.com');
  const forged = { 'X-Desk-Access-Email': 'ana@example.com' };
  const alone = await upgradeStatus(desk.url, adminPath(name), forged);
  assert.equal(alone.status, 401, alone.text);
  assert.equal(alone.body.code, 'unauthorized');
  // Beside a bad token: still refused, for the token.
  const expired = sign(key, claimsFor(team, AUD, 'ana@example.com', { exp: Math.floor(Date.now() / 1000) - 3600 }));
  assertAccessRefusal(await upgradeStatus(desk.url, adminPath(name), { ...forged, ...assertion(expired) }), /expired/, expired, 'expired + forged');
  // Beside the owner's secret: the owner, not Ana.
  const owner = await connectAdmin(desk.url, name, { headers: forged });
  assert.equal((await owner.next('users')).me.agentId, 'owner');
  // Beside a valid token for someone else: that someone, never the forged email.
  await invite(desk.url, name, 'Bo', 'bo@example.com');
  const bo = await accessSocket(desk.url, name, sign(key, claimsFor(team, AUD, 'bo@example.com')), forged);
  assert.equal((await bo.next(where('users', (f) => f.type === 'users'))).me.name, 'Bo');
  await closeAll(owner, bo);
});

test('without ACCESS_TEAM_DOMAIN and ACCESS_AUD the Access header is ignored and a forged email header signs nobody in', async () => {
  const bare = await startMiniflare();
  try {
    const name = deskName('access-off');
    await invite(bare.url, name, 'Ana', 'ana@example.com');
    const jwt = sign(key, claimsFor(team, AUD, 'ana@example.com'));
    const forged = { 'X-Desk-Access-Email': 'ana@example.com' };
    const owner = await connectAdmin(bare.url, name, { headers: { ...assertion(jwt), ...forged } });
    assert.equal((await owner.next('users')).me.agentId, 'owner', 'the secret signs in the owner; the token is not read');
    await owner.close();
    for (const headers of [assertion(jwt), forged, { ...assertion(jwt), ...forged }]) {
      const answer = await upgradeStatus(bare.url, adminPath(name), headers);
      assert.equal(answer.status, 401, `${Object.keys(headers)}: ${answer.text}`);
      assert.equal(answer.body.code, 'unauthorized');
    }
  } finally {
    await bare.dispose();
  }
});
