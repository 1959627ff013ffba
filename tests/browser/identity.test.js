// Browser: a logged-in customer (verified identity from the host page) sees one conversation on
// every device and leaves nothing behind on logout; widget and inbox wait out rate_limited and resend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY_SECRET, deskName, userHash } from '../helpers/desk.js';
import {
  startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox,
  adminReplies, T, DESK_VARS,
} from './lib.js';

let desk, site, browser;
// Small buckets on purpose: four quick sends meet a rate_limited that the clients must wait out.
const VARS = { ...DESK_VARS, IDENTITY_SECRET, VISITOR_FRAMES_PER_SEC: '1', VISITOR_FRAME_BURST: '2',
  ADMIN_FRAMES_PER_SEC: '1', ADMIN_FRAME_BURST: '4' };
before(async () => ({ desk, site, browser } = await startStage({ vars: VARS })));
after(() => stopStage({ desk, site, browser }));

test('a verified customer has one conversation on laptop and phone; logging out leaves nothing in the browser', { timeout: 120_000 }, async () => {
  const d = deskName('verified');
  const identity = { userId: 'customer-1001', userHash: userHash(d, 'customer-1001') };
  const laptop = await openVisitor(browser, site, d, 'Grace', { identity });
  await visitorSays(laptop.page, 'Asked on my laptop');

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await inbox(admin).rows.filter({ hasText: 'Asked on my laptop' }).waitFor({ timeout: T });
  await inbox(admin).rowNamed(/^Grace, verified\b/).waitFor({ timeout: T });
  await adminReplies(admin, 'Grace', 'Answered for every device');

  const phone = await openVisitor(browser, site, d, 'Grace', { identity, viewport: { width: 390, height: 760 } });
  await widget(phone.page).launcher.click();
  await widgetShows(phone.page, 'Asked on my laptop');
  await widgetShows(phone.page, 'Answered for every device');

  // Logout on a shared computer: the verified conversation leaves the page and was never stored.
  await laptop.page.evaluate(() => window.SupportChat.identify(null));
  await widgetConnected(laptop.page);
  assert.deepEqual(await laptop.page.evaluate(() => window.SupportChat.messages), []);
  const stored = await laptop.page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.doesNotMatch(stored, /Asked on my laptop|Answered for every device/);
  assert.doesNotMatch(stored, /customer-1001/, 'no key or value names the customer');

  // A page that claims the customer with a wrong hash is refused: the widget keeps retrying and shows nothing.
  const forgedCtx = await browser.newContext();
  const forged = await forgedCtx.newPage();
  // the proof is checked when the widget asks for a ticket: refused there, no socket is opened
  const refused = forged.waitForResponse((r) => r.url().includes('/visitor/ticket') && r.status() === 401, { timeout: T });
  const q = new URLSearchParams({ desk: d, userId: 'customer-1001', userHash: userHash(d, 'customer-1001', 'a-guess') });
  await forged.goto(`${site.url}/?${q}`);
  await widget(forged).launcher.click(); // a first page view connects when the chat is opened
  await refused;
  await forged.waitForFunction(() => window.SupportChat?.state === 'reconnecting', null, { timeout: T });
  assert.deepEqual(await forged.evaluate(() => window.SupportChat.messages), []);
  await forgedCtx.close();
  await Promise.all([laptop.context.close(), phone.context.close(), adminCtx.close()]);
});

/** Types each line into `input` and presses Enter, as fast as a script can: no waiting in between. */
async function typeEach(input, lines) {
  for (const text of lines) {
    await input.fill(text);
    await input.press('Enter');
  }
}

/** Resolves once `log` shows `text` with the status `status` (e.g. "· Sent"). */
const settled = (log, text, status) =>
  log.getByRole('listitem').filter({ hasText: text }).filter({ hasText: status }).waitFor({ timeout: T });

test('four quick sends over the limit: widget and inbox wait as told and every message ends up sent', { timeout: 120_000 }, async () => {
  const d = deskName('limited');
  const V = await openVisitor(browser, site, d, 'Quick Quentin');
  const w = widget(V.page);
  await w.launcher.click();
  const lines = ['one', 'two', 'three', 'four'].map((n) => `quick ${n}`);
  await typeEach(w.input, lines);
  for (const text of lines) await settled(w.log, text, /· (Sent|Seen)$/);
  assert.equal(await w.log.getByText('Not sent').count(), 0);

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await ui.row('Quick Quentin').click();
  const replies = ['a', 'b', 'c', 'd'].map((n) => `reply ${n}`);
  await typeEach(ui.input, replies);
  for (const text of replies) {
    await settled(ui.log, text, /· (Sent|Seen)$/);
    await widgetShows(V.page, text);
  }
  await Promise.all([V.context.close(), adminCtx.close()]);
});
