// Browser: what logs keep of the real widget and inbox. The desk runs in Miniflare with a Tail Worker
// attached (what `wrangler tail`, Workers Logs and a deployment's Tail Workers see); Chromium signs in
// to the inbox, a named visitor writes, comes back after a reload, a verified customer writes, an
// agent answers. No secret, token, token hash, identity hash or name may appear in any captured event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ADMIN_TOKEN, IDENTITY_SECRET, deskName, startMiniflare, userHash } from '../helpers/desk.js';
import {
  adminReplies, launch, openAdmin, openVisitor, startHostSite, visitorSays, widget, widgetConnected, widgetShows,
} from './lib.js';

let desk, site, browser;
before(async () => {
  desk = await startMiniflare({ bindings: { ALLOWED_ORIGINS: '*', IDENTITY_SECRET }, tail: true });
  site = await startHostSite(desk.url);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await site?.close();
  await desk?.dispose();
});

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const urlOf = (e) => e.item?.event?.request?.url ?? '';

test('the widget and the inbox put no secret, token, hash or name in any log event', { timeout: 120_000 }, async () => {
  const d = deskName('browser-logs');
  const visitorName = 'Zoë Browsername';
  const customer = { userId: 'customer-9876', userHash: userHash(d, 'customer-9876') };

  const zoe = await openVisitor(browser, site, d, visitorName);
  await visitorSays(zoe.page, 'Hello from the widget');
  await zoe.page.reload(); // a returning visitor: its token goes in a ticket request's body
  await widgetConnected(zoe.page);
  const token = await zoe.page.evaluate((key) => localStorage.getItem(key), `supportchat:${new URL(desk.url).host}:${d}`);
  assert.match(token ?? '', /^[0-9a-f]{64}$/, 'the widget keeps its token');
  const verified = await openVisitor(browser, site, d, null, { identity: customer });
  await visitorSays(verified.page, 'A verified question');

  const context = await browser.newContext();
  const inbox = await openAdmin(context, desk.url, d); // typed into the sign-in form, as a person does
  await adminReplies(inbox, visitorName, 'An answer from the inbox');
  await widget(zoe.page).launcher.click(); // closed since the reload
  await widgetShows(zoe.page, 'An answer from the inbox');

  // Every socket closed, so the upgrades' events are complete; each request gives the Worker's and the object's.
  await Promise.all([zoe.context.close(), verified.context.close(), context.close()]);
  const pathOf = (e) => (urlOf(e) ? new URL(urlOf(e)).pathname : '');
  const paths = { 'admin/ticket': 1, admin: 1, 'visitor/ticket': 3, visitor: 3 };
  await Promise.all(Object.entries(paths).map(([p, n]) => desk.tail.waitFor((e) => pathOf(e) === `/desks/${d}/${p}`,
    { count: 2 * n, description: `an event for ${p}` })));
  const ours = desk.tail.events.filter((e) => urlOf(e).includes(`/desks/${d}/`));
  assert.ok(ours.some((e) => e.unredacted?.headers?.['sec-websocket-protocol']?.includes('support-desk.ticket.')),
    'the widget and the inbox opened their sockets with tickets');
  const text = desk.tail.events.map((e) => {
    const unredacted = structuredClone(e.unredacted ?? {});
    for (const h of ['authorization', 'cookie']) if (unredacted.headers) delete unredacted.headers[h];
    return `${JSON.stringify(e.item)}\n${JSON.stringify(unredacted)}`;
  }).join('\n');
  const secrets = {
    ADMIN_TOKEN, 'the ADMIN_TOKEN in hex': hex(ADMIN_TOKEN), IDENTITY_SECRET,
    'the visitor token': token, 'its hash': sha256(token), 'the identity hash': customer.userHash,
    'the visitor name': visitorName, 'the name in a URL': encodeURIComponent(visitorName),
  };
  for (const [what, value] of Object.entries(secrets)) {
    const query = new URLSearchParams({ v: value }).toString().slice(2);
    assert.ok(!text.includes(value) && !text.includes(query), `${what} is in a captured log event`);
  }
});
