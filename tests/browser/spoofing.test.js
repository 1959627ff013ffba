// Browser: spoofing. The verified mark is on the row and in the conversation header; a name that
// imitates it is refused and the widget goes on without it; bidirectional controls in messages
// are not shown (widget and inbox) and each message is isolated; a host page that clobbers
// window.SupportChat (and document members) does not stop the widget.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY_SECRET, deskName, userHash } from '../helpers/desk.js';
import {
  startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox, adminReplies,
  DESK_VARS, T,
} from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, IDENTITY_SECRET } })));
after(() => stopStage({ desk, site, browser }));

const RLO = '\u202E', LRI = '\u2066', PDI = '\u2069', RLM = '\u200F';

test('the verified mark is on the row and in the header; "Grace ✓" from an anonymous page is refused, and that widget still works', { timeout: 120_000 }, async () => {
  const d = deskName('mark');
  const real = await openVisitor(browser, site, d, 'Grace', { identity: { userId: 'customer-7', userHash: userHash(d, 'customer-7') } });
  await visitorSays(real.page, 'I am the real Grace');
  // An anonymous page names its visitor "Grace ✓": the desk refuses the name, the widget connects without it.
  const fake = await openVisitor(browser, site, d, 'Grace ✓');
  await visitorSays(fake.page, 'I am Grace too');

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await ui.rows.filter({ hasText: 'I am Grace too' }).waitFor({ timeout: T });
  await ui.rowNamed(/^Grace, verified\b/).waitFor({ timeout: T });
  const fakeRow = ui.rows.filter({ hasText: 'I am Grace too' });
  // the default name, not "Grace ✓"
  await ui.rowNamed(/^Visitor [0-9A-Z]{6}, online/).filter({ hasText: 'I am Grace too' }).waitFor({ timeout: T });

  await ui.row('Grace').click();
  await admin.getByRole('heading', { name: /^Grace\s+verified$/ }).waitFor({ timeout: T });
  assert.equal(await admin.locator('#conv-title .verified').getAttribute('title'), 'verified by your site: customer-7');
  await fakeRow.click();
  await admin.getByRole('heading', { name: /^Visitor [0-9A-Z]{6}$/ }).waitFor({ timeout: T });
  assert.equal(await admin.locator('#conv-title .verified').count(), 0, 'no mark in the header of an anonymous visitor');
  await Promise.all([real.context.close(), fake.context.close(), adminCtx.close()]);
});

test('bidirectional controls in messages are not shown, and each message is isolated (widget and inbox)', { timeout: 120_000 }, async () => {
  const d = deskName('bidi');
  const V = await openVisitor(browser, site, d, 'Bidi');
  const w = widget(V.page);
  await w.launcher.click();
  await w.input.fill(`see invoice${RLO}fdp.exe${LRI} now${PDI}${RLM}`);
  await w.input.press('Enter');
  await w.log.getByRole('listitem').filter({ hasText: 'see invoice' }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  const row = ui.rows.filter({ hasText: 'see invoice' });
  await row.waitFor({ timeout: T });
  assert.equal(await row.locator('.preview').textContent(), 'see invoicefdp.exe now', 'the preview without controls');
  assert.equal(await row.locator('.preview').getAttribute('dir'), 'auto');
  await row.click();
  const said = ui.log.getByText('see invoicefdp.exe now', { exact: true });
  await said.waitFor({ timeout: T });
  assert.equal(await said.getAttribute('dir'), 'auto', 'isolated from the name and time beside it');
  await ui.input.fill(`reply ${RLO}txt.exe`);
  await ui.input.press('Enter');
  await ui.log.getByRole('listitem').filter({ hasText: 'reply txt.exe' }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
  await widgetShows(V.page, 'reply txt.exe');

  const widgetTexts = await V.page.evaluate(() => [...document.querySelector('support-chat').shadowRoot.querySelectorAll('li p')]
    .map((p) => ({ text: p.textContent, dir: p.dir })));
  assert.deepEqual(widgetTexts, [{ text: 'see invoicefdp.exe now', dir: 'auto' }, { text: 'reply txt.exe', dir: 'auto' }]);
  const inboxTexts = await admin.evaluate(() => [...document.querySelectorAll('#log .text')].map((p) => p.textContent));
  assert.ok(inboxTexts.every((t) => !/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/.test(t)), JSON.stringify(inboxTexts));
  // The message itself is kept as sent: only its display drops the controls.
  const kept = await V.page.evaluate(() => window.SupportChat.messages.map((m) => m.message));
  assert.equal(kept[0], `see invoice${RLO}fdp.exe${LRI} now${PDI}${RLM}`);
  await Promise.all([V.context.close(), adminCtx.close()]);
});

test('a host page that clobbers window.SupportChat (and document members) does not stop the widget', { timeout: 120_000 }, async () => {
  const d = deskName('clobber');
  const context = await browser.newContext();
  const page = await context.newPage();
  const events = [];
  await page.exposeFunction('__sawMessage', (m) => events.push(m));
  await page.addInitScript(() => window.addEventListener('supportchat:message', (e) => window.__sawMessage(e.detail.message)));
  // <a id="SupportChat">, <img name="currentScript">, <img name="body">, forms named querySelector and
  // createElement, and `window.SupportChat = 1` before the widget's tag.
  await page.goto(`${site.url}/?${new URLSearchParams({ desk: d, name: 'Clobbered', clobber: '1' })}`);
  await widgetConnected(page);
  // The host overwrites the global afterwards too: the widget never reads it back.
  await page.evaluate(() => { window.SupportChat = 1; });
  await visitorSays(page, 'still works');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Clobbered', 'and answers arrive');
  await widgetShows(page, 'and answers arrive');
  assert.deepEqual(events, ['still works', 'and answers arrive'], 'events still reach the page');
  assert.equal(await page.locator('support-chat').count(), 1, 'one widget, on the page itself');
  await Promise.all([context.close(), adminCtx.close()]);
});
