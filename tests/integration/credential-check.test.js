// Credential checks: a browser cannot read why a WebSocket handshake failed, so clients ask these
// endpoints before concluding that a stored credential was refused (rather than the desk being down).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, connectVisitor, deskName, startMiniflare } from '../helpers/desk.js';

let desk;
before(async () => {
  desk = await startMiniflare();
});
after(() => desk?.dispose());

const post = (path, init = {}) => fetch(new URL(path, desk.url), { method: 'POST', ...init });

test('a visitor token this desk issued is known; others are 401, readable cross-origin', async () => {
  const name = deskName('check');
  const v = await connectVisitor(desk.url, name);
  const { token } = await v.next('welcome');
  await v.close();

  // text/plain keeps it a "simple" CORS request: no preflight from a customer's site.
  const ok = await post(`/desks/${name}/visitor/check`, { body: JSON.stringify({ token }), headers: { 'Content-Type': 'text/plain' } });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), '*');

  for (const [other, tok] of [[name, 'f'.repeat(64)], [deskName('elsewhere'), token]]) {
    const refused = await post(`/desks/${other}/visitor/check`, { body: JSON.stringify({ token: tok }) });
    assert.equal(refused.status, 401, `token on ${other}`);
    assert.equal(refused.headers.get('access-control-allow-origin'), '*', 'the widget on another site can read the 401');
    assert.equal((await refused.json()).code, 'unauthorized');
  }
  for (const body of ['', 'not json', '{"tok":1}', JSON.stringify({ token: 'x'.repeat(2000) })]) {
    assert.equal((await post(`/desks/${name}/visitor/check`, { body })).status, 400, `body ${body.slice(0, 20)}`);
  }
  assert.equal((await fetch(new URL(`/desks/${name}/visitor/check`, desk.url))).status, 405, 'GET is not a check');
  // `{}` asks whether someone new would be let in now (limits.test.js): here, yes.
  assert.equal((await post(`/desks/${name}/visitor/check`, { body: '{}' })).status, 204);
});

test('the admin check answers 204 for the right secret and 401 otherwise', async () => {
  const path = `/desks/${deskName('check')}/admin/check`;
  assert.equal((await post(path, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 204);
  assert.equal((await post(path, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
  assert.equal((await post(path)).status, 401);
  const foreign = await post(path, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: 'https://evil.example' } });
  assert.equal(foreign.status, 403);
});
