// Browser: a desk behind Cloudflare Access. The edge's proof (Cf-Access-Jwt-Assertion, here added to every request of the browser) signs in an invited email from the inbox's "Sign in with Cloudflare Access", with no token typed; new tabs follow; signing out holds; without the proof it is refused in words.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import { deskName, connectAdmin } from '../helpers/desk.js';
import { startStage, stopStage, T, DESK_VARS } from './lib.js';

const AUD = randomBytes(32).toString('hex');
const b64url = (data) => Buffer.from(data).toString('base64url');
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

/** A local stand-in for the team's `https://<team>.cloudflareaccess.com`: the key set at the certs path. */
const team = http.createServer((req, res) => {
  if (req.url !== '/cdn-cgi/access/certs') { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
});

/** The RS256 token Access would put on the requests of `email`'s browser (valid for five minutes). */
function accessToken(email) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud: [AUD], email, exp: now + 300, iat: now, nbf: now, iss: teamOrigin, type: 'app', sub: 'u1' };
  const input = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(createSign('RSA-SHA256').update(input).sign(privateKey))}`;
}

let desk, site, browser, teamOrigin;
before(async () => {
  await new Promise((resolve) => team.listen(0, '127.0.0.1', resolve));
  teamOrigin = `http://127.0.0.1:${team.address().port}`;
  ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, ACCESS_TEAM_DOMAIN: teamOrigin, ACCESS_AUD: AUD } }));
});
after(async () => {
  await stopStage({ desk, site, browser });
  await new Promise((resolve) => team.close(resolve));
});

test('an invited email behind Cloudflare Access signs in without a token; new tabs follow; signing out holds', { timeout: 90_000 }, async () => {
  const d = deskName('access');
  const owner = await connectAdmin(desk.url, d);
  await owner.next('users');
  owner.send({ type: 'invite', name: 'Ana', role: 'agent', email: 'ana@example.com' });
  await owner.next('invited');

  const context = await browser.newContext();
  await context.setExtraHTTPHeaders({ 'Cf-Access-Jwt-Assertion': accessToken('ana@example.com') });
  const page = await context.newPage();
  await page.goto(`${desk.url}/admin/chat?desk=${d}`);
  const viaAccess = page.getByRole('button', { name: 'Sign in with Cloudflare Access' });
  await viaAccess.click({ timeout: T }); // a choice on the sign-in form, never automatic
  await page.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });
  assert.equal(await page.getByLabel('Admin token').isVisible(), false);

  const tab = await context.newPage();
  await tab.goto(`${desk.url}/admin/chat?desk=${d}`);
  await tab.getByText('Ana · agent', { exact: true }).waitFor({ timeout: T });

  await tab.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor({ timeout: T });
  await page.reload();
  await page.getByRole('button', { name: 'Sign in with Cloudflare Access' }).waitFor({ timeout: T });
  assert.equal(await page.getByText('Ana · agent', { exact: true }).isVisible(), false, 'signed out stays signed out');

  // a browser without the edge's proof: refused, with words, and the form stays
  const plain = await browser.newContext();
  const other = await plain.newPage();
  await other.goto(`${desk.url}/admin/chat?desk=${d}`);
  await other.getByRole('button', { name: 'Sign in with Cloudflare Access' }).click();
  await other.getByRole('alert').filter({ hasText: 'Cloudflare Access did not sign you in' }).waitFor({ timeout: T });
  await other.getByLabel('Admin token').waitFor({ timeout: T });
  assert.equal(await other.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
  await owner.close();
  await plain.close();
  await context.close();
});
