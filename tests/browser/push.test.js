// Browser: the inbox's side of Web Push, as far as it runs offline. Chromium here cannot reach a
// real push service, so what is checked is the part before it: with VAPID keys, ticking "Notify me"
// registers the service worker (/admin/sw.js, scope /admin/, revalidated on every load) and tries
// to subscribe with the desk's key (the outcome is said next to the box); without keys the inbox
// says that notifications work only while the tab is open. Delivery, encryption and the VAPID JWT
// are tested against a real local push service in tests/integration/push.test.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { deskName, startWranglerDev } from '../helpers/desk.js';
import { DESK_VARS, launch, openAdmin, T } from './lib.js';

function vapidKeys() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return { VAPID_PUBLIC_KEY: point.toString('base64url'), VAPID_PRIVATE_KEY: jwk.d, VAPID_SUBJECT: 'mailto:ops@example.com' };
}

let on, off, browser;
before(async () => {
  [on, off] = await Promise.all([
    startWranglerDev({ vars: { ...DESK_VARS, ...vapidKeys() } }),
    startWranglerDev({ vars: DESK_VARS }),
  ]);
  browser = await launch();
});
after(async () => { await browser?.close(); await on?.stop(); await off?.stop(); });

const pushState = (page) => page.locator('#push-state');

test('with VAPID keys, "Notify me" registers the service worker and subscribes with the desk\'s key', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: on.url });
  const page = await openAdmin(context, on.url, deskName('push'));
  await page.getByRole('checkbox', { name: 'Notify me of new messages' }).check();
  const scope = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return reg.scope;
  });
  assert.equal(scope, `${on.url}/admin/`);
  // Offline Chromium has no push service: either outcome is said, never "push is off".
  await pushState(page).filter({ hasText: /closed|could not subscribe/ }).waitFor({ timeout: T });
  assert.doesNotMatch(await pushState(page).textContent(), /push is off/);

  const sw = await page.request.get(`${on.url}/admin/sw.js`);
  assert.equal(sw.status(), 200);
  assert.match(sw.headers()['content-type'], /javascript/);
  assert.equal(sw.headers()['cache-control'], 'no-cache');
  await context.close();
});

test('without VAPID keys the inbox says notifications work only while the tab is open', { timeout: 120_000 }, async () => {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: off.url });
  const page = await openAdmin(context, off.url, deskName('push-off'));
  await page.getByRole('checkbox', { name: 'Notify me of new messages' }).check();
  await page.reload(); // the choice is kept; the desk's answer is read on connect
  await page.getByRole('status').filter({ hasText: 'Only while this tab is open: push is off on this desk (no VAPID keys).' }).waitFor({ timeout: T });
  await context.close();
});
