// The HTTP half of the contract: refusals before any upgrade (status + JSON code) and admin auth.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, connectAdmin, connectVisitor, deskName, startMiniflare, upgradeStatus } from '../helpers/desk.js';
import { admin, closeAll, say, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

/** Asserts `path` (with `headers`) is answered `status` with the JSON error `code`. */
async function refusedWith(path, headers, status, code, opts) {
  const res = await upgradeStatus(desk.url, path, headers, opts);
  assert.equal(res.status, status, `${opts?.method ?? 'GET'} ${path} ${JSON.stringify(headers)}: want ${status}, got ${res.status} ${res.text}`);
  assert.equal(res.body?.code, code, `${path}: body ${res.text}`);
  assert.equal(typeof res.body.message, 'string');
  return res;
}

test('a desk name that is not 1 to 64 of [A-Za-z0-9_-] is 400 bad_desk', async () => {
  for (const bad of ['a.b', 'caf%C3%A9', 'has%20space', 'x'.repeat(65), '', 'a%2Fb']) {
    for (const role of ['visitor', 'admin']) {
      await refusedWith(`/desks/${bad}/${role}`, { Authorization: `Bearer ${ADMIN_TOKEN}` }, 400, 'bad_desk');
    }
  }
  for (const good of ['x'.repeat(64), 'A', 'Acme_support-2']) {
    const v = await visitor(desk.url, good);
    assert.ok(v.userId, `${good} is a valid desk`);
    await v.close();
  }
});

test('a visitor token this desk did not issue is 401 before the upgrade', async () => {
  const name = deskName('tok');
  await refusedWith(`/desks/${name}/visitor?token=${'ab'.repeat(32)}`, {}, 401, 'unauthorized');
  await refusedWith(`/desks/${name}/visitor?token=garbage`, {}, 401, 'unauthorized');
  const elsewhere = await visitor(desk.url, deskName('other'));
  await say(elsewhere, 'I belong to another desk');
  await refusedWith(`/desks/${name}/visitor?token=${elsewhere.token}`, {}, 401, 'unauthorized');
  await assert.rejects(connectVisitor(desk.url, name, { token: elsewhere.token }), (e) => e.status === 401);
  await elsewhere.close();
});

test('an admin socket without or with a wrong credential is 401', async () => {
  const name = deskName('auth');
  await refusedWith(`/desks/${name}/admin`, {}, 401, 'unauthorized');
  await refusedWith(`/desks/${name}/admin`, { Authorization: 'Bearer wrong-token' }, 401, 'unauthorized');
  await refusedWith(`/desks/${name}/admin`, { Authorization: `Bearer ${ADMIN_TOKEN}x` }, 401, 'unauthorized');
  await refusedWith(`/desks/${name}/admin`, { Authorization: `Basic ${ADMIN_TOKEN}` }, 401, 'unauthorized');
  await refusedWith(`/desks/${name}/admin?token=${ADMIN_TOKEN}`, {}, 401, 'unauthorized');
  await assert.rejects(connectAdmin(desk.url, name, { token: 'nope' }), (e) => e.status === 401);
  await assert.rejects(connectAdmin(desk.url, name, { token: 'nope', via: 'subprotocol' }), (e) => e.status === 401);
  const hexOf = (s) => Buffer.from(s, 'utf8').toString('hex');
  await refusedWith(`/desks/${name}/admin`, { 'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${hexOf('nope')}` },
    401, 'unauthorized');
  await refusedWith(`/desks/${name}/admin`, { 'Sec-WebSocket-Protocol': 'support-desk.v1' }, 401, 'unauthorized');
});

test('admin auth by Bearer header and by subprotocol; the server selects support-desk.v1', async () => {
  const name = deskName('subproto');
  const bearer = await admin(desk.url, name);
  assert.deepEqual(bearer.users, []);
  const viaSub = await admin(desk.url, name, { via: 'subprotocol' });
  assert.equal(viaSub.protocol, 'support-desk.v1', 'the selected subprotocol, never the token one');
  assert.equal(viaSub.snapshot.type, 'users');
  const raw = await upgradeStatus(desk.url, `/desks/${name}/admin`, {
    'Sec-WebSocket-Protocol': `support-desk.v1, support-desk.token.${Buffer.from(ADMIN_TOKEN).toString('hex')}`,
  });
  assert.equal(raw.status, 101);
  assert.equal(raw.headers['sec-websocket-protocol'], 'support-desk.v1', 'the token is not echoed');
  const v = await visitor(desk.url, name);
  await say(v, 'both admins hear this');
  await Promise.all([bearer, viaSub].map((a) => a.next((f) => f.type === 'message' && f.userId === v.userId)));
  await closeAll(bearer, viaSub, v);
});

test('a plain GET on a socket path is 426; other methods 405; other paths 404', async () => {
  const name = deskName('plain');
  for (const role of ['visitor', 'admin']) {
    await refusedWith(`/desks/${name}/${role}`, { Upgrade: null, Authorization: `Bearer ${ADMIN_TOKEN}` }, 426, 'upgrade_required');
    const res = await fetch(`${desk.url}/desks/${name}/${role}`);
    assert.equal(res.status, 426, `fetch GET /desks/${name}/${role}`);
    assert.equal((await res.json()).code, 'upgrade_required');
    await refusedWith(`/desks/${name}/${role}`, { Upgrade: null }, 405, 'method_not_allowed', { method: 'POST' });
  }
  await refusedWith(`/desks/${name}/other`, {}, 404, 'not_found');
  await refusedWith(`/desks/${name}/visitor/extra`, {}, 404, 'not_found');
});

test('query checks: a bad name or a half resume is 400 bad_request; a foreign Origin admin is 403', async () => {
  const name = deskName('query');
  await refusedWith(`/desks/${name}/visitor?name=${'n'.repeat(65)}`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/visitor?name=%20%20%20`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/visitor?name=bell%07`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/visitor?since=3`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/visitor?since=-1&epoch=abc`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/visitor?since=1&epoch=${'e'.repeat(65)}`, {}, 400, 'bad_request');
  await refusedWith(`/desks/${name}/admin?epoch=abc`, { Authorization: `Bearer ${ADMIN_TOKEN}` }, 400, 'bad_request');
  await refusedWith(`/desks/${name}/admin`, { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: 'https://evil.example' },
    403, 'forbidden_origin');
  const sameOrigin = await upgradeStatus(desk.url, `/desks/${name}/admin`, { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: desk.url });
  assert.equal(sameOrigin.status, 101, 'the desk\'s own origin is fine');
  const unlisted = await upgradeStatus(desk.url, `/desks/${name}/visitor`, { Origin: 'https://customer.example' });
  assert.equal(unlisted.status, 403, 'without ALLOWED_ORIGINS, only the desk\'s own pages may embed the widget');
  assert.equal(unlisted.body.code, 'forbidden_origin');
});

test('static assets are served next to the desk: demo site, widget (loader and chat), admin inbox', async () => {
  for (const [path, type] of [['/', /text\/html/], ['/widget.js', /javascript/], ['/widget-chat.js', /javascript/], ['/admin/chat', /text\/html/]]) {
    const res = await fetch(`${desk.url}${path}`);
    assert.equal(res.status, 200, `GET ${path}`);
    assert.match(res.headers.get('content-type') ?? '', type, `GET ${path} content-type`);
  }
});

test('without an ADMIN_TOKEN admin access is closed (503), never open', async () => {
  const closed = await startMiniflare({ bindings: { ADMIN_TOKEN: '' } });
  try {
    for (const headers of [{}, { Authorization: 'Bearer ' }, { Authorization: `Bearer ${ADMIN_TOKEN}` }]) {
      const res = await upgradeStatus(closed.url, `/desks/${deskName('closed')}/admin`, headers);
      assert.equal(res.status, 503, `${JSON.stringify(headers)}: ${res.text}`);
      assert.equal(res.body.code, 'admin_disabled');
    }
    assert.equal((await upgradeStatus(closed.url, `/desks/${deskName('closed')}/visitor`, {})).status, 101, 'visitors still work');
  } finally {
    await closed.dispose();
  }
});

test('a guessable ADMIN_TOKEN (under 32 characters) keeps admin access closed (503), even when presented', async () => {
  const weak = await startMiniflare({ bindings: { ADMIN_TOKEN: 'hunter2' } });
  try {
    const res = await upgradeStatus(weak.url, `/desks/${deskName('weak')}/admin`, { Authorization: 'Bearer hunter2' });
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.code, 'admin_disabled');
    assert.match(res.body.message, /at least 32 characters/);
  } finally {
    await weak.dispose();
  }
});
