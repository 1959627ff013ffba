// Browser: a widget that costs nothing until used (docs/widget.md, "What loads when"). A first page view
// loads only the launcher: no chat file, no request, no socket, nothing stored, no visitor row; opening
// the panel loads the chat and connects. A returning visitor with a recent conversation connects on
// load; crawlers get the launcher only; a chat file that fails to load says so and loads on the next
// open. With the panel closed, a reply counts in the tab's title and chimes (never with data-sound="off").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deskName, removeTempDir, tempDir } from '../helpers/desk.js';
import { startStage, stopStage, openAdmin, visitorSays, widget, adminReplies, titleIs, T } from './lib.js';

let desk, site, browser;
const persistDir = tempDir('desk-lazy-');
before(async () => ({ desk, site, browser } = await startStage({ persistDir })));
after(async () => { await stopStage({ desk, site, browser }); removeTempDir(persistDir); });

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const DAY = 24 * 3600 * 1000;

/** Every visitor row the desks of this file stored, read from their SQLite files (the admin side
 *  lists conversations, not visitors who never wrote); the tests run one after the other. */
function visitorRows() {
  const files = readdirSync(persistDir, { recursive: true }).filter((f) => /Desk\/[0-9a-f]{64}\.sqlite$/.test(f));
  let rows = 0;
  for (const file of files) {
    try {
      rows += Number(execFileSync('sqlite3', [join(persistDir, file), 'SELECT COUNT(*) FROM visitors'], { encoding: 'utf8' }));
    } catch { /* no visitors table (yet) */ }
  }
  return rows;
}

/** A page on the customer's site (`query`: desk, name, sound), with what it asked the desk for recorded. */
async function visit(context, query) {
  const page = await context.newPage();
  const seen = { chat: 0, tickets: 0, status: 0, sockets: [] };
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path === '/widget-chat.js') seen.chat++;
    if (path.endsWith('/visitor/ticket')) seen.tickets++;
    if (path.endsWith('/status')) seen.status++;
  });
  page.on('websocket', (ws) => seen.sockets.push(ws));
  await page.goto(`${site.url}/?${new URLSearchParams(query)}`);
  await page.waitForFunction(() => window.SupportChat?.state, null, { timeout: T });
  return { page, seen };
}

const state = (page) => page.evaluate(() => window.SupportChat.state);
const connected = (page) => page.waitForFunction(() => window.SupportChat.state === 'connected', null, { timeout: T });
const storedKeys = (page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('supportchat:')));

test('a first page view loads the launcher only: no chat file, request, socket, storage or visitor row; opening connects', { timeout: 90_000 }, async () => {
  const d = deskName('lazy');
  const context = await browser.newContext();
  const rowsBefore = visitorRows();
  const { page, seen } = await visit(context, { desk: d, name: 'Lena' });
  const w = widget(page);
  await w.launcher.waitFor({ timeout: T });
  assert.equal(await w.launcher.getAttribute('aria-label'), 'Open support chat');
  assert.equal(await state(page), 'idle');
  assert.deepEqual({ chat: seen.chat, tickets: seen.tickets, status: seen.status, sockets: seen.sockets.length },
    { chat: 0, tickets: 0, status: 0, sockets: 0 }, 'the page load asked the desk for nothing');
  assert.deepEqual(await storedKeys(page), [], 'nothing written to the browser');
  assert.equal(visitorRows(), rowsBefore, 'no visitor row');

  // opening the panel loads the chat, asks a ticket, opens one socket
  await w.launcher.click();
  await w.panel.waitFor({ timeout: T });
  await connected(page);
  assert.deepEqual({ chat: seen.chat, tickets: seen.tickets, sockets: seen.sockets.length }, { chat: 1, tickets: 1, sockets: 1 });
  await w.input.waitFor({ timeout: T });
  assert.equal(visitorRows(), rowsBefore + 1, 'one visitor row, once the visitor opened the chat');
  await context.close();
});

test('SupportChat.open() and identify() connect; close() right after open() still connects', { timeout: 60_000 }, async () => {
  const d = deskName('lazy-api');
  const context = await browser.newContext();
  const { page, seen } = await visit(context, { desk: d });
  await page.evaluate(() => { window.SupportChat.open(); window.SupportChat.close(); });
  await connected(page);
  assert.equal(await widget(page).panel.isVisible(), false, 'closed again before the chat arrived: stays closed');
  assert.equal(seen.sockets.length, 1);
  // a single-page host that logs its customer out (or in) on a fresh page: that connects too
  const other = await browser.newContext();
  const second = await visit(other, { desk: d });
  assert.equal(await state(second.page), 'idle');
  await second.page.evaluate(() => window.SupportChat.identify(null));
  await connected(second.page);
  assert.equal(second.seen.sockets.length, 1);
  await other.close();
  await context.close();
});

test('a returning visitor with a conversation active in the last 30 days connects on load; an older one waits', { timeout: 90_000 }, async () => {
  const d = deskName('lazy-back');
  const context = await browser.newContext();
  const first = await visit(context, { desk: d, name: 'Rudi' });
  await visitorSays(first.page, 'Hello, about my order');
  await first.page.close();

  const back = await visit(context, { desk: d, name: 'Rudi' });
  await connected(back.page); // by itself: nobody clicked
  assert.equal(await widget(back.page).panel.isVisible(), false, 'the panel stays closed');
  assert.equal(back.seen.sockets.length, 1);
  await back.page.close();

  // the same conversation, its last message 31 days ago: the next page view stays quiet
  await context.addInitScript((old) => {
    for (const key of Object.keys(localStorage)) if (key.startsWith('supportchat:') && key.endsWith(':at')) localStorage.setItem(key, String(old));
  }, Date.now() - 31 * DAY);
  const later = await visit(context, { desk: d, name: 'Rudi' });
  assert.equal(await state(later.page), 'idle');
  assert.deepEqual({ chat: later.seen.chat, tickets: later.seen.tickets, sockets: later.seen.sockets.length }, { chat: 0, tickets: 0, sockets: 0 });
  await context.close();
});

test('a crawler gets the launcher only, even with a recent conversation in its storage', { timeout: 60_000 }, async () => {
  const d = deskName('lazy-bot');
  const context = await browser.newContext({ userAgent: GOOGLEBOT });
  const key = `supportchat:${new URL(desk.url).host}:${d}:at`;
  await context.addInitScript((k) => localStorage.setItem(k, String(Date.now())), key);
  const rowsBefore = visitorRows();
  const { page, seen } = await visit(context, { desk: d });
  const w = widget(page);
  await w.launcher.waitFor({ timeout: T });
  await w.launcher.click();
  await page.evaluate(() => window.SupportChat.open());
  assert.equal(await state(page), 'idle');
  assert.equal(await w.panel.count(), 0, 'no panel');
  assert.deepEqual({ chat: seen.chat, tickets: seen.tickets, status: seen.status, sockets: seen.sockets.length },
    { chat: 0, tickets: 0, status: 0, sockets: 0 });
  assert.equal(visitorRows(), rowsBefore, 'no visitor row');
  await context.close();
});

test('a chat file that fails to load says so, and loads on the next open', { timeout: 60_000 }, async () => {
  const d = deskName('lazy-fail');
  const context = await browser.newContext();
  const { page } = await visit(context, { desk: d });
  const w = widget(page);
  await page.route('**/widget-chat.js', (route) => route.abort());
  await w.launcher.click();
  const alert = page.getByRole('alert').filter({ hasText: 'The chat could not load' });
  await alert.waitFor({ timeout: T });
  assert.equal(await state(page), 'idle');
  await page.unroute('**/widget-chat.js');
  await w.launcher.click();
  await w.panel.waitFor({ timeout: T });
  await connected(page);
  assert.equal(await alert.count(), 0, 'the message went');
  await context.close();
});

/** Counts the widget's chimes on `page` (its `supportchat:sound` event) in window.__sounds. */
const countSounds = (page) => page.evaluate(() => {
  window.__sounds = 0;
  addEventListener('supportchat:sound', () => window.__sounds++);
});
const sounds = (page) => page.evaluate(() => window.__sounds);

test('a reply while the panel is closed: "(1) New message" in the title, the badge, a chime; restored on opening', { timeout: 120_000 }, async () => {
  const d = deskName('lazy-title');
  const visitor = await browser.newContext();
  const { page } = await visit(visitor, { desk: d, name: 'Tia' });
  await visitorSays(page, 'Anyone there?');
  // the same conversation in a second tab, whose page says data-sound="off" (it connects by itself:
  // a recent conversation); the visitor clicked in it, so only the option keeps it silent
  const quiet = await visit(visitor, { desk: d, name: 'Tia', sound: 'off' });
  await connected(quiet.page);
  await quiet.page.getByRole('button', { name: 'Buy now' }).click();
  const w = widget(page);
  await w.close.click();
  await countSounds(page);
  await countSounds(quiet.page);
  const adminContext = await browser.newContext();
  const admin = await openAdmin(adminContext, desk.url, d);

  await adminReplies(admin, 'Tia', 'Yes, here!');
  await titleIs(page, '(1) New message');
  await w.launcher.and(page.getByRole('button', { name: 'Open support chat, 1 unread' })).waitFor({ timeout: T });
  await page.waitForFunction(() => window.__sounds === 1, null, { timeout: T });
  await titleIs(quiet.page, '(1) New message');
  assert.equal(await sounds(quiet.page), 0, 'data-sound="off": no chime');

  // the count grows; SupportChat.mute() silences the chime, not the title
  await page.evaluate(() => window.SupportChat.mute());
  await adminReplies(admin, 'Tia', 'How can I help?');
  await titleIs(page, '(2) New messages');
  await page.getByRole('button', { name: 'Open support chat, 2 unread' }).waitFor({ timeout: T });
  assert.equal(await sounds(page), 1, 'muted by the host: no chime');
  assert.equal(await sounds(quiet.page), 0);

  // opening the panel restores the page's own title and clears the badge
  await w.launcher.click();
  await titleIs(page, 'A customer site');
  await page.getByRole('button', { name: 'Close support chat' }).waitFor({ timeout: T });
  await adminContext.close();
  await visitor.close();
});
