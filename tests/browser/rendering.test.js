// Browser: how messages read on both sides. Links are clickable <a> nodes that open a new tab and tell the linked page nothing (only http(s) and mailto); an Arabic message is laid out right to left; the widget groups messages under day separators like the inbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox, adminReplies, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

/** Every <a> in `scope` (a locator) as { text, href, target, rel }. */
const linksIn = (scope) => scope.locator('a').evaluateAll((links) =>
  links.map((a) => ({ text: a.textContent, href: a.getAttribute('href'), target: a.target, rel: a.rel })));

const SAFE = { target: '_blank', rel: 'noopener noreferrer nofollow' };

test('links in messages are clickable on both sides, open a new tab with no opener, and only http(s) and mailto', { timeout: 120_000 }, async () => {
  const d = deskName('links');
  const landing = `${desk.url}/demo.css?from=chat`; // a page that answers 200 and runs nothing
  const V = await openVisitor(browser, site, d, 'Linda');
  await visitorSays(V.page, `The order page ${landing}. Mail me at mailto:linda@shop.example or run javascript:alert(1)`);

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await adminReplies(admin, 'Linda', 'Here is the guide: https://docs.example/guide_(v2)), and data:text/html,<b>x</b> stays text');
  await widgetShows(V.page, 'Here is the guide: https://docs.example/guide_(v2)), and data:text/html,<b>x</b> stays text');

  const visitorLine = ui.log.getByRole('listitem').filter({ hasText: 'The order page' });
  assert.deepEqual(await linksIn(visitorLine), [
    { text: landing, href: landing, ...SAFE },
    { text: 'mailto:linda@shop.example', href: 'mailto:linda@shop.example', ...SAFE },
  ], 'the inbox: two links, the javascript: text left as text');
  const replyInWidget = widget(V.page).log.getByRole('listitem').filter({ hasText: 'Here is the guide' });
  assert.deepEqual(await linksIn(replyInWidget), [{ text: 'https://docs.example/guide_(v2)', href: 'https://docs.example/guide_(v2)', ...SAFE }],
    'the widget: the link without the closing bracket and comma after it; data: stays text');

  // the agent clicks the visitor's link: a new tab at that address, which cannot reach back to the inbox
  const [opened] = await Promise.all([
    adminCtx.waitForEvent('page', { timeout: T }),
    visitorLine.getByRole('link', { name: landing }).click(),
  ]);
  await opened.waitForLoadState('domcontentloaded');
  assert.equal(opened.url(), landing);
  assert.equal(await opened.evaluate(() => window.opener), null, 'noopener');
  assert.equal(admin.url().includes('/admin/chat'), true, 'the inbox stays where it was');

  // the visitor clicks the agent's link in the widget: a new tab too
  const [openedByVisitor] = await Promise.all([
    V.context.waitForEvent('page', { timeout: T }),
    replyInWidget.getByRole('link', { name: 'https://docs.example/guide_(v2)' }).click(),
  ]);
  assert.notEqual(openedByVisitor, V.page);
  assert.equal(await V.page.evaluate(() => location.pathname), '/', 'the customer page stays');
  await Promise.all([V.context.close(), adminCtx.close()]);
});

test('an Arabic message is laid out right to left in the widget and in the inbox; English beside it left to right', { timeout: 120_000 }, async () => {
  const d = deskName('rtl');
  const arabic = 'مرحبا، طلبي رقم 42 لم يصل بعد';
  const V = await openVisitor(browser, site, d, 'Amal');
  await visitorSays(V.page, arabic);
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Amal', 'Sorry to hear that, checking now');
  await widgetShows(V.page, 'Sorry to hear that, checking now');

  const direction = (locator) => locator.evaluate((p) => ({
    dir: p.getAttribute('dir'), direction: getComputedStyle(p).direction, rtl: p.matches(':dir(rtl)'),
  }));
  const rtl = { dir: 'auto', direction: 'rtl', rtl: true }, ltr = { dir: 'auto', direction: 'ltr', rtl: false };
  const w = widget(V.page);
  assert.deepEqual(await direction(w.log.getByText(arabic, { exact: true })), rtl, 'the widget');
  assert.deepEqual(await direction(w.log.getByText('Sorry to hear that, checking now', { exact: true })), ltr);
  const ui = inbox(admin);
  assert.deepEqual(await direction(ui.log.getByText(arabic, { exact: true })), rtl, 'the inbox');
  assert.deepEqual(await direction(ui.log.getByText('Sorry to hear that, checking now', { exact: true })), ltr);

  // laid out from the right: the first word (مرحبا) sits at the bubble's right edge
  const edges = await w.log.getByText(arabic, { exact: true }).evaluate((p) => {
    const range = document.createRange();
    range.setStart(p.firstChild, 0);
    range.setEnd(p.firstChild, 5);
    const word = range.getBoundingClientRect(), box = p.getBoundingClientRect();
    return { gapRight: box.right - word.right, gapLeft: word.left - box.left };
  });
  assert.ok(edges.gapRight < edges.gapLeft, `first word on the right: ${JSON.stringify(edges)}`);
  await Promise.all([V.context.close(), adminCtx.close()]);
});

test('the widget groups messages under day separators, as the inbox does, also after a reload', { timeout: 120_000 }, async () => {
  const d = deskName('days');
  const V = await openVisitor(browser, site, d, 'Dana');
  await visitorSays(V.page, 'first of the day');
  await visitorSays(V.page, 'second of the day');
  const w = widget(V.page);
  assert.deepEqual(await w.log.getByRole('separator').allTextContents(), ['Today']);
  await w.log.getByRole('separator', { name: 'Today' }).waitFor({ timeout: T });
  await V.page.reload();
  await widgetConnected(V.page);
  await w.launcher.click();
  await widgetShows(V.page, 'second of the day');
  assert.deepEqual(await w.log.getByRole('separator').allTextContents(), ['Today'], 'one separator for the day, after a reload too');
  await V.context.close();
});
