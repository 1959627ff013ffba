// Browser: finding and keeping work. Resolving moves a conversation from Open to Resolved and a visitor's message brings it back (with event lines); search finds a conversation by a word; each conversation keeps its own draft; notes stay internal; a phone-sized inbox keeps badge and time in view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName, connectVisitor } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widget, inbox, rowUnread, T, DESK_VARS } from './lib.js';

let desk, site, browser;
// sixty visitors from this one address in the paging test: no per-address limit (tests/integration/abuse.test.js has it)
before(async () => ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, NEW_VISITORS_PER_IP: '0' } })));
after(() => stopStage({ desk, site, browser }));

/** Resolves once the tab of `view` shows `n`. */
const tabShows = (page, view, n) => page.getByRole('tab', { name: new RegExp(`^${view} ${n}$`) }).waitFor({ timeout: T });

test('Resolve from the header: the conversation leaves Open for Resolved; a visitor message reopens it, with event lines', { timeout: 120_000 }, async () => {
  const d = deskName('resolve');
  const R = await openVisitor(browser, site, d, 'Rosa');
  await visitorSays(R.page, 'My order never came.');
  const S = await openVisitor(browser, site, d, 'Sven');
  await visitorSays(S.page, 'Do you ship to Iceland?');
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Rosa', 1);
  await tabShows(admin, 'Open', 2);
  await tabShows(admin, 'Resolved', 0);
  assert.equal(await ui.tab('Open').getAttribute('aria-selected'), 'true', 'Open is the default view');

  await ui.row('Rosa').click();
  await ui.log.getByText('My order never came.', { exact: true }).waitFor({ timeout: T });
  await ui.action('Resolve').click();
  await ui.log.getByText(/resolved/i).waitFor({ timeout: T }); // the event line, as the desk words it
  await ui.row('Rosa').waitFor({ state: 'detached', timeout: T });
  await tabShows(admin, 'Open', 1);
  await tabShows(admin, 'Resolved', 1);
  await ui.row('Sven').waitFor({ timeout: T }); // the other one stays
  await ui.action('Reopen').waitFor({ timeout: T }); // the header follows the status

  await ui.tab('Resolved').click();
  await ui.row('Rosa').waitFor({ timeout: T });
  assert.equal(await ui.row('Sven').count(), 0, 'Resolved lists only resolved conversations');

  // the visitor writes again: reopened by the desk, it leaves Resolved and is back in Open
  await visitorSays(R.page, 'Hello? Still nothing.');
  await ui.log.getByText('Hello? Still nothing.', { exact: true }).waitFor({ timeout: T });
  await ui.log.getByText(/reopened/i).waitFor({ timeout: T });
  await ui.row('Rosa').waitFor({ state: 'detached', timeout: T });
  await tabShows(admin, 'Resolved', 0);
  await tabShows(admin, 'Open', 2);
  await ui.tab('Open').click();
  await ui.row('Rosa').waitFor({ timeout: T });
  const names = await ui.rows.evaluateAll((bs) => bs.map((b) => b.querySelector('.name').textContent));
  assert.deepEqual(names, ['Rosa', 'Sven'], 'newest activity first');
  await ui.action('Resolve').waitFor({ timeout: T });
  const events = ui.log.locator('.event');
  assert.equal(await events.count(), 2, 'one line per status change');
  assert.equal(await widget(R.page).log.getByText(/resolved|reopened/i).count(), 0, 'events never reach the visitor');
  for (const v of [R, S]) await v.context.close();
  await ctx.close();
});

test('search finds a conversation by a word of a message; clicking opens it; Escape returns to the view', { timeout: 90_000 }, async () => {
  const d = deskName('search');
  const A = await openVisitor(browser, site, d, 'Saanvi');
  await visitorSays(A.page, 'My parcel from Rotterdam is late');
  const B = await openVisitor(browser, site, d, 'Tove');
  await visitorSays(B.page, 'A question about invoices');
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Tove', 1);

  await ui.search.fill('rotterdam');
  const results = admin.getByRole('list', { name: 'Search results' });
  const hit = results.getByRole('button', { name: /^Saanvi\b/ });
  await hit.waitFor({ timeout: T });
  assert.match(await hit.textContent(), /Rotterdam/, 'the snippet shows the matching words, as text');
  assert.equal(await hit.locator('mark').textContent(), 'Rotterdam', 'the matching word is marked');
  assert.equal(await results.getByRole('button').count(), 1, 'only the conversation that matches');
  assert.equal(await ui.row('Tove').isVisible(), false, 'the view is replaced by the results');
  await hit.click();
  await admin.getByRole('heading', { level: 2, name: 'Saanvi' }).waitFor({ timeout: T });
  await ui.log.getByText('My parcel from Rotterdam is late', { exact: true }).waitFor({ timeout: T });

  await ui.search.press('Escape');
  await ui.row('Tove').waitFor({ timeout: T });
  assert.equal(await ui.search.inputValue(), '');
  assert.equal(await results.isVisible(), false);
  for (const v of [A, B]) await v.context.close();
  await ctx.close();
});

test('each conversation keeps its own draft; Enter sends only the open one\'s; a note stays with the team', { timeout: 90_000 }, async () => {
  const d = deskName('drafts');
  const A = await openVisitor(browser, site, d, 'Aiko');
  await visitorSays(A.page, 'Hi from Aiko');
  const B = await openVisitor(browser, site, d, 'Bruno');
  await visitorSays(B.page, 'Hi from Bruno');
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);

  await ui.row('Aiko').click();
  await ui.input.fill('Draft for Aiko, half written');
  await ui.row('Bruno').click();
  assert.equal(await ui.input.inputValue(), '', 'Bruno starts with an empty box');
  await ui.input.fill('Draft for Bruno');
  await ui.row('Aiko').click();
  assert.equal(await ui.input.inputValue(), 'Draft for Aiko, half written');
  await ui.input.press('Enter');
  await widgetShows(A.page, 'Draft for Aiko, half written');
  await ui.row('Bruno').click();
  assert.equal(await ui.input.inputValue(), 'Draft for Bruno', 'Bruno\'s draft survived');
  assert.equal(await widget(B.page).log.getByText(/Draft for/).count(), 0, 'nothing of Aiko\'s went to Bruno');

  // a note: marked as such, never sent to the visitor
  await admin.getByRole('radio', { name: 'Note' }).check();
  await ui.note.fill('Bruno is a reseller: check the discount');
  await ui.note.press('Enter');
  const note = ui.log.getByRole('listitem').filter({ hasText: 'Bruno is a reseller: check the discount' });
  await note.filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
  await note.getByText('Note · Owner', { exact: true }).waitFor({ timeout: T });
  await admin.getByRole('radio', { name: 'Reply' }).check();
  await ui.input.fill('Bruno, yes we do.');
  await ui.input.press('Enter');
  await widgetShows(B.page, 'Bruno, yes we do.');
  assert.equal(await widget(B.page).log.getByText(/reseller/).count(), 0, 'the note never reached the visitor');
  // the note is stored: a reload shows it again (drafts and all)
  await admin.reload();
  await ui.row('Bruno').click();
  await ui.log.getByText('Bruno is a reseller: check the discount', { exact: true }).waitFor({ timeout: T });
  for (const v of [A, B]) await v.context.close();
  await ctx.close();
});

test('at 390×844 a row with a very long preview keeps its unread badge and time in view', { timeout: 90_000 }, async () => {
  const d = deskName('phone');
  const V = await openVisitor(browser, site, d, 'Long Preview Person');
  const long = 'Supercalifragilisticexpialidocious'.repeat(4) + ' ' + 'and then a very long sentence about the order '.repeat(3);
  await visitorSays(V.page, long);
  await visitorSays(V.page, long + ' again');
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const admin = await openAdmin(ctx, desk.url, d);
  await rowUnread(admin, 'Long Preview Person', 2);
  const row = inbox(admin).row('Long Preview Person');
  const inside = async (loc) => {
    const box = await loc.boundingBox();
    assert.ok(box, 'shown');
    return box.x >= 0 && box.x + box.width <= 390;
  };
  assert.equal(await inside(row.locator('.badge')), true, 'the unread badge is inside the viewport');
  assert.equal(await inside(row.locator('time')), true, 'the time is inside the viewport');
  assert.equal(await row.locator('.badge').textContent(), '2');
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal overflow at 390 px (${width})`);
  await V.context.close();
  await ctx.close();
});

test('a view longer than a page loads the next page when scrolled to its end; a live row moves to the top', { timeout: 120_000 }, async () => {
  const d = deskName('pages');
  const guests = [];
  for (let i = 1; i <= 60; i++) {
    const v = await connectVisitor(desk.url, d, { name: `Guest ${String(i).padStart(2, '0')}` });
    await v.next('welcome');
    v.send({ type: 'message', message: `hello number ${i}`, clientMsgId: `p-${i}` });
    await v.next('ack');
    guests.push(v);
  }
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await tabShows(admin, 'Open', 60);
  await ui.row('Guest 60').waitFor({ timeout: T });
  assert.equal(await ui.rows.count(), 50, 'one page of 50 first');
  const more = admin.getByRole('navigation', { name: 'Conversations' }).getByRole('status');
  await more.filter({ hasText: /more/ }).waitFor({ timeout: T }); // never a silent cut-off
  await ui.rows.last().scrollIntoViewIfNeeded();
  await ui.row('Guest 01').waitFor({ timeout: T });
  const names = await ui.rows.evaluateAll((bs) => bs.map((b) => b.querySelector('.name').textContent));
  assert.deepEqual(names, Array.from({ length: 60 }, (_, i) => `Guest ${String(60 - i).padStart(2, '0')}`), 'all 60, newest first, none twice');
  await more.waitFor({ state: 'hidden', timeout: T });

  // the oldest writes again: its one row moves to the top, nothing else changes
  guests[0].send({ type: 'message', message: 'me again', clientMsgId: 'p-again' });
  await guests[0].next('ack');
  await admin.waitForFunction(() => document.querySelector('#users button .name')?.textContent === 'Guest 01', null, { timeout: T });
  assert.equal(await ui.rows.count(), 60);
  assert.equal(await ui.rows.nth(1).evaluate((b) => b.querySelector('.name').textContent), 'Guest 60');
  for (const v of guests) await v.close();
  await ctx.close();
});

test('messages are grouped under day separators: "Today", and "Yesterday" once the day has turned', { timeout: 60_000 }, async () => {
  const d = deskName('days');
  const V = await openVisitor(browser, site, d, 'Dagny');
  await visitorSays(V.page, 'Written today');
  const ctx = await browser.newContext();
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await ui.row('Dagny').click();
  await ui.log.getByText('Written today', { exact: true }).waitFor({ timeout: T });
  assert.deepEqual(await ui.log.getByRole('separator').allTextContents(), ['Today']);

  // the same conversation seen from a browser whose clock says tomorrow
  const later = await browser.newContext();
  await later.clock.install({ time: Date.now() + 86_400_000 });
  const next = await openAdmin(later, desk.url, d);
  await inbox(next).row('Dagny').click();
  await inbox(next).log.getByText('Written today', { exact: true }).waitFor({ timeout: T });
  await inbox(next).log.getByRole('separator', { name: 'Yesterday' }).waitFor({ timeout: T });
  assert.equal(await inbox(next).log.getByRole('separator').count(), 1);
  await V.context.close();
  await ctx.close();
  await later.close();
});
