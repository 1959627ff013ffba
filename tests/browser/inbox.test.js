// Browser: the A/B/C scenario as people do it, unread badges and title, a second admin tab in step, history across a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BULK_LIMITS, deskName, connectVisitor } from '../helpers/desk.js';
import {
  startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox, rowUnread, adminReplies, titleIs, T, DESK_VARS,
} from './lib.js';

let desk, site, browser;
// A long conversation is typed by a script in one go: limits out of the way (tests/integration/abuse.test.js has them).
before(async () => ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, ...BULK_LIMITS } })));
after(() => stopStage({ desk, site, browser }));

test('A/B/C: each visitor gets only the replies meant for them; unread counts, title and a second admin tab follow', { timeout: 180_000 }, async () => {
  const d = deskName('abc');
  const A = await openVisitor(browser, site, d, 'Alice');
  const B = await openVisitor(browser, site, d, 'Bob');
  const C = await openVisitor(browser, site, d, 'Carol');

  await visitorSays(A.page, 'A1: my kettle leaks');
  await visitorSays(B.page, 'B1: where is my order?');
  await visitorSays(C.page, 'C1: do you ship to Norway?');
  await visitorSays(A.page, 'A2: it is the Classic 1.7 L');

  const adminCtx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Alice', 2);
  await rowUnread(admin, 'Bob', 1);
  await rowUnread(admin, 'Carol', 1);
  await titleIs(admin, '(4) Inbox');
  // newest activity first: Alice (A2), Carol, Bob
  const names = await ui.rows.evaluateAll((bs) => bs.map((b) => b.querySelector('.name').textContent));
  assert.deepEqual(names, ['Alice', 'Carol', 'Bob']);
  assert.equal(await ui.send.isDisabled(), true, 'Send is disabled until a visitor is selected');

  // a second admin tab, signed in separately (the token is kept per tab)
  const admin2 = await openAdmin(adminCtx, desk.url, d);
  await rowUnread(admin2, 'Carol', 1);

  // viewing C reads it, in both tabs
  await ui.row('Carol').click();
  await ui.log.getByText('C1: do you ship to Norway?', { exact: true }).waitFor({ timeout: T });
  await rowUnread(admin, 'Carol', 0);
  await rowUnread(admin2, 'Carol', 0);
  await titleIs(admin, '(3) Inbox');
  await titleIs(admin2, '(3) Inbox');
  assert.equal(await ui.input.evaluate((el) => el === document.activeElement), true, 'selecting focuses the reply box');

  // the admin clicks A and replies
  await adminReplies(admin, 'Alice', 'Hello Alice, sorry about the leak.');
  await rowUnread(admin, 'Alice', 0);
  await rowUnread(admin2, 'Alice', 0);
  await titleIs(admin2, '(1) Inbox');
  await widgetShows(A.page, 'Hello Alice, sorry about the leak.');

  // the other tab sees the reply in A's conversation when it opens it, and the next one live
  await inbox(admin2).row('Alice').click();
  await inbox(admin2).log.getByText('Hello Alice, sorry about the leak.', { exact: true }).waitFor({ timeout: T });
  await adminReplies(admin, 'Alice', 'A new lid is on its way.');
  await inbox(admin2).log.getByText('A new lid is on its way.', { exact: true }).waitFor({ timeout: T });
  await widgetShows(A.page, 'A new lid is on its way.');

  // replies to B and C come after A's on the same desk: if A's had reached them, it would show first
  await adminReplies(admin, 'Bob', 'Bob, it ships tomorrow.');
  await rowUnread(admin, 'Bob', 0); // opened and stayed on for a second: read
  await adminReplies(admin, 'Carol', 'Carol, yes we do.');
  await widgetShows(B.page, 'Bob, it ships tomorrow.');
  await widgetShows(C.page, 'Carol, yes we do.');
  for (const [who, v] of [['B', B], ['C', C]]) {
    assert.equal(await widget(v.page).log.getByText('Hello Alice', { exact: false }).count(), 0, `${who} must not see A's reply`);
  }
  assert.equal(await widget(A.page).log.getByText(/Bob, it ships|Carol, yes/).count(), 0, 'A sees only its own replies');
  await titleIs(admin, 'Inbox');

  // a live message into the open conversation is appended and read at once (badge stays 0)
  await visitorSays(C.page, 'C2: great, thanks!');
  await ui.log.getByText('C2: great, thanks!', { exact: true }).waitFor({ timeout: T });
  await rowUnread(admin2, 'Carol', 0);
  await titleIs(admin, 'Inbox');

  for (const v of [A, B, C]) await v.context.close();
  await adminCtx.close();
});

test('the launcher badge counts replies while the panel is closed and clears on open; history survives a reload', { timeout: 120_000 }, async () => {
  const d = deskName('badge');
  const V = await openVisitor(browser, site, d, 'Dora');
  const w = widget(V.page);
  await visitorSays(V.page, 'Hi, anyone there?');
  await w.close.click();
  assert.equal(await w.panel.isVisible(), false);
  assert.equal(await w.launcher.evaluate((el) => el.getRootNode().activeElement === el), true, 'focus returns to the launcher');

  // the documented events: SupportChat.on(...) and window CustomEvents
  await V.page.evaluate(() => {
    window.seen = { unread: [], messages: [] };
    window.SupportChat.on('unread', (d) => window.seen.unread.push(d.count));
    addEventListener('supportchat:message', (e) => window.seen.messages.push(`${e.detail.sender}: ${e.detail.message}`));
  });
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Dora', 'Yes! How can I help?');
  await adminReplies(admin, 'Dora', 'Still there?');
  const unread = () => V.page.evaluate(() => window.SupportChat.unread);
  await V.page.getByRole('button', { name: 'Open support chat, 2 unread' }).waitFor({ timeout: T });
  assert.equal(await unread(), 2);
  assert.deepEqual(await V.page.evaluate(() => window.seen), {
    unread: [1, 2], messages: ['admin: Yes! How can I help?', 'admin: Still there?'],
  });

  // the badge survives a reload (replies not seen yet), and so does the conversation
  await V.page.reload();
  await V.page.getByRole('button', { name: 'Open support chat, 2 unread' }).waitFor({ timeout: T });
  await w.launcher.click();
  await V.page.getByRole('button', { name: 'Close support chat' }).waitFor({ timeout: T });
  assert.equal(await unread(), 0);
  for (const text of ['Hi, anyone there?', 'Yes! How can I help?', 'Still there?']) await widgetShows(V.page, text);
  // messages only: the day's separator is a list item too
  const messageItems = (page) => widget(page).log.getByRole('listitem').filter({ hasNot: page.getByRole('separator') });
  assert.equal(await messageItems(V.page).count(), 3, 'no duplicate after the reload');
  assert.deepEqual(await w.log.getByRole('separator').allTextContents(), ['Today']);
  assert.equal(await w.input.evaluate((el) => el.getRootNode().activeElement === el), true, 'opening focuses the input');

  // keyboard only: Escape closes, Enter on the launcher reopens, Shift+Enter makes a new line
  await V.page.keyboard.press('Escape');
  await V.page.getByRole('button', { name: 'Open support chat' }).waitFor({ timeout: T });
  await V.page.keyboard.press('Enter');
  await w.panel.waitFor({ timeout: T });
  await V.page.keyboard.type('line one');
  await V.page.keyboard.press('Shift+Enter');
  await V.page.keyboard.type('line two');
  await V.page.keyboard.press('Enter');
  await w.log.getByText('line one\nline two', { exact: true }).waitFor({ timeout: T });
  await inbox(admin).log.getByText('line one\nline two', { exact: true }).waitFor({ timeout: T });

  // a second tab of the same visitor shows the same conversation, and what the first one sends
  const tab2 = await V.context.newPage();
  await tab2.goto(V.url);
  await widgetConnected(tab2);
  await widget(tab2).launcher.click();
  await widgetShows(tab2, 'Still there?');
  await visitorSays(V.page, 'sent from the first tab');
  await widgetShows(tab2, 'sent from the first tab');
  assert.equal(await messageItems(tab2).count(), 5, 'the same five messages, none doubled');

  await V.context.close();
  await adminCtx.close();
});

test('keyboard: j/k and Alt+↑/↓ move between conversations without reading them; staying a second reads; the demo site and the inbox render in standards mode under their CSP', { timeout: 90_000 }, async () => {
  const d = deskName('keys');
  const visitors = [];
  for (const name of ['Kim', 'Lee', 'Max']) {
    const v = await openVisitor(browser, site, d, name);
    await visitorSays(v.page, `${name} says hi`);
    visitors.push(v);
  }
  const adminCtx = await browser.newContext();
  await adminCtx.clock.install(); // the page's timers: the one-second "read" dwell runs only when the test says
  const admin = await openAdmin(adminCtx, desk.url, d);
  const problems = [];
  admin.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  admin.on('pageerror', (e) => problems.push(e.message));
  const ui = inbox(admin);
  await rowUnread(admin, 'Kim', 1);
  await admin.clock.pauseAt(await admin.evaluate(() => Date.now() + 1000)); // page time stands still from here
  const current = () => admin.getByRole('heading', { level: 2 }).filter({ hasText: /^(Kim|Lee|Max)$/ }).textContent();
  assert.equal(await admin.getByRole('checkbox', { name: 'Notify me of new messages' }).isChecked(), false, 'notifications are off by default');

  // newest first: Max, Lee, Kim
  await admin.locator('body').press('j');
  assert.equal(await current(), 'Max');
  await admin.locator('body').press('j');
  assert.equal(await current(), 'Lee');
  await ui.log.getByText('Lee says hi', { exact: true }).waitFor({ timeout: T });
  await admin.keyboard.press('k');
  assert.equal(await current(), 'Max');
  // from the reply box, Alt+↓ moves on while j types a letter
  await ui.row('Max').click();
  await ui.input.press('j');
  assert.equal(await ui.input.inputValue(), 'j');
  await ui.input.press('Alt+ArrowDown');
  await ui.input.press('Alt+ArrowDown');
  assert.equal(await current(), 'Kim');
  await ui.log.getByText('Kim says hi', { exact: true }).waitFor({ timeout: T });
  // a second on Kim reads Kim; Max and Lee, only passed through, stay unread (a read sent for
  // them would have come back before Kim's: one socket, in order)
  await admin.clock.runFor(1500);
  // Time flows again before the rows are read: the sidebar paints on the next animation frame (or
  // its 200 ms fallback), which a paused clock never gives. Any dwell still pending for Max or Lee
  // would fire now too, so their staying unread is still checked.
  await admin.clock.resume();
  await rowUnread(admin, 'Kim', 0);
  await rowUnread(admin, 'Max', 1);
  await rowUnread(admin, 'Lee', 1);
  await titleIs(admin, '(2) Inbox');
  await ui.input.fill('Hi Kim');
  await ui.input.press('Enter');
  await widgetShows(visitors[0].page, 'Hi Kim');
  assert.equal(await admin.evaluate(() => document.compatMode), 'CSS1Compat');
  assert.deepEqual(problems, [], 'no console errors (e.g. CSP violations) on the inbox');

  // the demo site embeds the widget from its own origin and works as is
  const demoCtx = await browser.newContext();
  const demo = await demoCtx.newPage();
  demo.on('pageerror', (e) => problems.push(e.message));
  await demo.goto(`${desk.url}/`);
  assert.equal(await demo.evaluate(() => document.compatMode), 'CSS1Compat');
  await widgetConnected(demo);
  await visitorSays(demo, 'hello from the demo site');
  assert.deepEqual(problems, []);
  for (const v of visitors) await v.context.close();
  await demoCtx.close();
  await adminCtx.close();
});

test('a long conversation scrolls with the newest in view; at 360 px the inbox switches between list and conversation', { timeout: 90_000 }, async () => {
  const d = deskName('long');
  const v = await connectVisitor(desk.url, d, { name: 'Lengthy' });
  await v.next('welcome');
  for (let i = 1; i <= 40; i++) {
    v.send({ type: 'message', message: `message number ${i}`, clientMsgId: `long-${i}` });
    await v.next('ack');
  }
  const adminCtx = await browser.newContext({ viewport: { width: 360, height: 700 } });
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Lengthy', 40);
  assert.equal(await ui.log.isVisible(), false, 'narrow: the list alone first');
  await ui.row('Lengthy').click();
  const last = ui.log.getByText('message number 40', { exact: true });
  await last.waitFor({ timeout: T });
  const inView = (loc) => loc.evaluate((el) => {
    const r = el.getBoundingClientRect(), box = el.closest('ol').getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  });
  assert.equal(await inView(last), true, 'the newest message is in view');
  assert.equal(await inView(ui.log.getByText('message number 1', { exact: true })), false, 'older ones are scrolled away');
  assert.equal(await ui.rows.first().isVisible(), false, 'narrow: the conversation alone');
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `no horizontal overflow at 360 px (${width})`);
  await ui.input.fill('Thanks for your patience');
  await ui.input.press('Enter');
  await v.next((f) => f.type === 'message' && f.message === 'Thanks for your patience');
  await titleIs(admin, 'Inbox'); // read once it stayed on screen for a second
  await admin.getByRole('button', { name: 'Back to conversations' }).click();
  await ui.rows.first().waitFor({ timeout: T });
  await rowUnread(admin, 'Lengthy', 0);
  await v.close();
  await adminCtx.close();
});
