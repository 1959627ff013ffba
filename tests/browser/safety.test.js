// Browser: hostile input and hostile hosts: an XSS payload stays text, hostile host CSS does not break the widget, refused tokens (visitor and admin) recover cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import {
  startStage, stopStage, openVisitor, openAdmin, signIn, visitorSays, widgetShows, widgetConnected, widget, inbox,
  adminReplies, rowUnread, T,
} from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

const XSS = '<img src=x onerror="window.__xss=1">';

test('an XSS payload from a visitor is shown as text in the admin page and in the widget, and never runs', { timeout: 90_000 }, async () => {
  const d = deskName('xss');
  const V = await openVisitor(browser, site, d, 'Mallory <b>bold</b>');
  await visitorSays(V.page, XSS);
  await widgetShows(V.page, XSS);

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  // the name and the preview are text too
  await ui.rows.filter({ hasText: 'Mallory <b>bold</b>' }).filter({ hasText: XSS }).waitFor({ timeout: T });
  await ui.rows.first().click();
  await ui.log.getByText(XSS, { exact: true }).waitFor({ timeout: T });
  await ui.input.fill(`${XSS} back at you`);
  await ui.input.press('Enter');
  await widgetShows(V.page, `${XSS} back at you`);

  for (const page of [V.page, admin]) {
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran');
    assert.equal(await page.locator('img').count(), 0, 'no element was made from the payload');
    assert.equal(await page.locator('b').count(), 0, 'no element was made from the name');
  }
  await V.context.close();
  await adminCtx.close();
});

test("hostile host CSS (* { all: unset }, huge button fonts) does not break the widget, and the widget's styles do not leak", { timeout: 90_000 }, async () => {
  const d = deskName('css');
  const V = await openVisitor(browser, site, d, 'Hostile', { hostile: true });
  const w = widget(V.page);
  const box = await w.launcher.boundingBox();
  const vp = V.page.viewportSize();
  assert.ok(box && box.width >= 44 && box.width <= 80 && box.height <= 80, `launcher keeps its size: ${JSON.stringify(box)}`);
  assert.ok(box.x + box.width > vp.width - 40 && box.y + box.height > vp.height - 40, `launcher bottom-right: ${JSON.stringify(box)}`);

  await visitorSays(V.page, 'typed on a hostile page');
  const panel = await w.panel.boundingBox();
  assert.ok(panel && panel.width > 300 && panel.width < 420 && panel.height > 300, `panel laid out: ${JSON.stringify(panel)}`);
  const send = await w.send.boundingBox();
  assert.ok(send.height < 60 && send.x > panel.x && send.x + send.width <= panel.x + panel.width + 1, `Send inside the panel: ${JSON.stringify(send)}`);
  const font = await w.send.evaluate((el) => getComputedStyle(el).fontSize);
  assert.equal(font, '16px', "the host's button font does not reach in");
  assert.equal(await w.input.evaluate((el) => getComputedStyle(el).fontSize), '16px');

  // the page's own button keeps the page's (hostile) style: nothing leaks out of the widget
  assert.equal(await V.page.getByRole('button', { name: 'Buy now' }).evaluate((el) => getComputedStyle(el).fontSize), '64px');

  // and it still works both ways
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Hostile', 'Works here too.');
  await widgetShows(V.page, 'Works here too.');
  await V.context.close();
  await adminCtx.close();
});

test('the widget on a narrow screen opens full screen with 16 px inputs', { timeout: 60_000 }, async () => {
  const d = deskName('mobile');
  const V = await openVisitor(browser, site, d, 'Phone', { viewport: { width: 375, height: 700 } });
  const w = widget(V.page);
  await w.launcher.click();
  const panel = await w.panel.boundingBox();
  assert.deepEqual([panel.x, panel.y, panel.width, panel.height], [0, 0, 375, 700]);
  assert.equal(await w.input.evaluate((el) => getComputedStyle(el).fontSize), '16px');
  await w.close.click();
  await V.context.close();
});

test('a visitor token the desk refuses is dropped once and a new visitor starts, without a loop', { timeout: 60_000 }, async () => {
  const d = deskName('refused');
  const context = await browser.newContext();
  const page = await context.newPage();
  // the key the widget keeps its token under, set before the widget loads
  await page.goto(`${site.url}/?desk=${d}-other&name=Nobody`);
  await widgetConnected(page);
  const host = new URL(desk.url).host;
  await page.evaluate(([h, dd]) => localStorage.setItem(`supportchat:${h}:${dd}`, 'forged-token-the-desk-never-issued'), [host, d]);
  const sockets = [], asked = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('request', (r) => { if (r.url().endsWith(`/desks/${d}/visitor/ticket`)) asked.push(JSON.parse(r.postData() || '{}')); });
  await page.goto(`${site.url}/?desk=${d}&name=Fresh`);
  await widgetConnected(page);
  const token = await page.evaluate(([h, dd]) => localStorage.getItem(`supportchat:${h}:${dd}`), [host, d]);
  assert.ok(token && token !== 'forged-token-the-desk-never-issued', 'a new token was stored');
  // The ticket request is refused (401) for the forged token: dropped once, then a ticket for someone new.
  assert.deepEqual(asked.map((b) => b.token ?? null), ['forged-token-the-desk-never-issued', null], JSON.stringify(asked));
  assert.ok(asked.every((b) => b.name === 'Fresh'), 'the name rides in the ticket request\'s body');
  assert.equal(sockets.length, 1, `one connect, with a ticket: ${sockets.join(', ')}`);
  assert.doesNotMatch(sockets[0], /token=|name=/, 'no token or name in the socket URL');
  await visitorSays(page, 'I am new here');
  await context.close();
});

test('a wrong admin token gets a clear message and the form again; the right one signs in', { timeout: 60_000 }, async () => {
  const d = deskName('login');
  const V = await openVisitor(browser, site, d, 'Waiting');
  await visitorSays(V.page, 'hello?');
  const context = await browser.newContext();
  const page = await context.newPage();
  const urls = [];
  page.on('websocket', (ws) => urls.push(ws.url()));
  const res = await page.goto(`${desk.url}/admin/chat?desk=${d}`);
  assert.match(res.headers()['content-security-policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/, 'the inbox runs under a strict CSP and is never framed');
  await signIn(page, 'not-the-token');
  await page.getByRole('alert').filter({ hasText: 'refused this token' }).waitFor({ timeout: T });
  assert.equal(await page.getByLabel('Admin token').evaluate((el) => el === document.activeElement), true, 'asked again');
  assert.equal(await page.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
  await signIn(page, (await import('./lib.js')).ADMIN_TOKEN);
  await rowUnread(page, 'Waiting', 1);
  assert.ok(urls.every((u) => !/token/i.test(u)), `the token never goes in a URL: ${urls.join(', ')}`);
  // kept by this browser for this desk: a reload signs in without asking
  await page.reload();
  await rowUnread(page, 'Waiting', 1);
  assert.equal(await page.getByLabel('Admin token').isVisible(), false);
  // signing out forgets it and clears the screen
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor({ timeout: T });
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('inbox.token')).length), 0);
  assert.equal(await page.getByRole('navigation', { name: 'Conversations' }).isVisible(), false);
  await page.reload();
  await page.getByLabel('Admin token').waitFor({ timeout: T });
  await V.context.close();
  await context.close();
});

test('the widget works when the host page has no usable storage', { timeout: 60_000 }, async () => {
  const d = deskName('nostorage');
  const context = await browser.newContext();
  await context.addInitScript(() => {
    Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('storage is disabled', 'SecurityError'); } });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site.url}/?desk=${d}&name=Private`);
  await widgetConnected(page);
  await visitorSays(page, 'no storage here');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Private', 'Still works.');
  await widgetShows(page, 'Still works.');
  assert.deepEqual(errors, []);
  await context.close();
  await adminCtx.close();
});
