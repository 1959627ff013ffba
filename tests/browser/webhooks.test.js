// Browser: the Settings page's Webhooks section round trip. The owner adds an endpoint (a real
// HTTP server this test runs), sees it with its secret, a visitor writes, the receiver gets the
// signed delivery and the log shows it delivered; a bad URL is refused on the page; the secret
// rotates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { deskName } from '../helpers/desk.js';
import { say, visitor } from '../integration/flows.js';
import { DESK_VARS, startStage, stopStage, openAdmin, T } from './lib.js';

let desk, site, browser, server;
const got = [];
let arrived = () => {};
before(async () => {
  ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '20' } }));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ headers: req.headers, body }); res.end('ok'); arrived(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
});
after(async () => { server?.close(); await stopStage({ desk, site, browser }); });

test('Settings → Webhooks: add an endpoint, a delivery arrives signed and shows in the log', { timeout: 120_000 }, async () => {
  const d = deskName('hooks');
  const ctx = await browser.newContext();
  const owner = await openAdmin(ctx, desk.url, d);
  await owner.getByRole('button', { name: 'Settings' }).click();
  const hooks = owner.getByRole('region', { name: 'Webhooks' });
  await hooks.getByText('No webhooks yet.').waitFor({ timeout: T });

  await hooks.getByLabel('Webhook URL').fill('http://example.com/hook');
  await hooks.getByRole('button', { name: 'Add webhook' }).click();
  await hooks.getByRole('alert').filter({ hasText: 'url must be an https:// URL' }).waitFor({ timeout: T });

  const url = `http://127.0.0.1:${server.address().port}/hook`;
  await hooks.getByLabel('Webhook URL').fill(url);
  assert.equal(await hooks.getByRole('checkbox', { name: 'message.created' }).isChecked(), true);
  await hooks.getByRole('button', { name: 'Add webhook' }).click();
  const endpoint = hooks.getByRole('list', { name: 'Webhooks' }).getByRole('listitem').filter({ hasText: url });
  await endpoint.waitFor({ timeout: T });
  const secret = await endpoint.locator('code').textContent();
  assert.match(secret, /^whsec_[0-9a-f]{64}$/);
  assert.equal(await hooks.getByRole('alert').isVisible(), false, 'the earlier refusal is cleared');

  const delivered = new Promise((r) => { arrived = () => { if (got.length >= 2) r(); }; });
  const v = await visitor(desk.url, d);
  await say(v, 'hello from the browser test');
  await delivered;
  for (const r of got) {
    assert.equal(r.headers['x-signature'], `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
  }
  assert.deepEqual(got.map((r) => JSON.parse(r.body).type), ['conversation.created', 'message.created']);

  // The log row is written once the desk has read the receiver's answer: refresh (each one
  // answered: the log is busy until then) until it shows, at most 20 times.
  const log = hooks.getByRole('list', { name: 'Delivery log' });
  const row = log.getByRole('listitem').filter({ hasText: /^delivered · message\.created · HTTP 200/ });
  for (let i = 0; i < 20 && !(await row.count()); i++) {
    await hooks.getByRole('button', { name: 'Refresh the log' }).click();
    await owner.waitForFunction(() => document.getElementById('webhook-log').getAttribute('aria-busy') === 'false', null, { timeout: T });
  }
  await row.waitFor({ timeout: T });
  await v.close();

  // Rotate: a new secret shown.
  owner.once('dialog', (dialog) => dialog.accept());
  await endpoint.getByRole('button', { name: `Rotate the secret of ${url}` }).click();
  await owner.waitForFunction((old) => !document.getElementById('webhooks-list').textContent.includes(old), secret, { timeout: T });
  await ctx.close();
});
