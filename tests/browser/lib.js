// Shared steps for the browser tests: launch Debian's Chromium, open visitor pages (a host page that embeds the widget as a customer would) and admin pages, act as people do.
import http from 'node:http';
import { chromium } from 'playwright-core';
import { ADMIN_TOKEN, startWranglerDev } from '../helpers/desk.js';

export { ADMIN_TOKEN };

export const T = 20_000; // how long a person-visible step may take
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Host-page CSS a careless or hostile customer site might have. */
export const HOSTILE_CSS = `* { all: unset !important; }
button { font-size: 64px !important; padding: 40px !important; }
div, section, ol, li, p, textarea { display: inline !important; position: static !important; }
body { font: 40px/3 "Comic Sans MS", cursive; color: red; }`;

/** Host-page markup that shadows the widget's global and document members (DOM clobbering), and a
 *  script that takes the global's name first. */
export const CLOBBERING_HTML = `<a id="SupportChat" href="#help">Help</a><img name="currentScript" alt="">
<img name="body" alt=""><form name="querySelector"></form><form name="createElement"></form>
<a id="addEventListener" href="#a">a</a><a id="dispatchEvent" href="#d">d</a>
<script>window.SupportChat = 1;</script>`;

/** A customer's page that embeds the widget from the desk's origin with the documented tag
 *  (`clobber`: with CLOBBERING_HTML before it). */
export function hostPage(deskUrl, desk, { name, hostile = false, userId, userHash, clobber = false, sound } = {}) {
  const who = userId ? ` data-user-id="${esc(userId)}" data-user-hash="${esc(userHash ?? '')}"` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A customer site</title>
<meta name="viewport" content="width=device-width, initial-scale=1">${hostile ? `<style>${HOSTILE_CSS}</style>` : ''}</head>
<body><h1>A customer site</h1><p>Some content the visitor came for.</p><button type="button">Buy now</button>${clobber ? CLOBBERING_HTML : ''}
<script src="${esc(deskUrl)}/widget.js" data-desk="${esc(desk)}"${name ? ` data-name="${esc(name)}"` : ''}${who}${sound ? ` data-sound="${esc(sound)}"` : ''} defer></script></body></html>`;
}

/** The strict CSP a careful customer site sends: its own files, plus the desk's script and sockets, nothing inline. */
export function strictHostCsp(deskUrl) {
  const desk = new URL(deskUrl);
  return `default-src 'self'; script-src 'self' ${desk.origin}; connect-src 'self' ${desk.origin} ws://${desk.host} wss://${desk.host}; base-uri 'none'`;
}

/**
 * A customer's web site on its own origin (another port of 127.0.0.1):
 * GET /?desk=&name=&hostile=1&csp=1&clobber=1&userId=&userHash=&sound= answers a page embedding the widget of
 * `deskUrl` (csp=1: under `strictHostCsp`; clobber=1: with CLOBBERING_HTML; userId + userHash: a
 * logged-in customer). Returns { url, close() }.
 */
export async function startHostSite(deskUrl) {
  const server = http.createServer((req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    if (!q.get('desk')) { res.writeHead(404).end(); return; }
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store',
      ...(q.get('csp') === '1' ? { 'Content-Security-Policy': strictHostCsp(q.get('deskUrl') || deskUrl) } : {}),
    });
    res.end(hostPage(q.get('deskUrl') || deskUrl, q.get('desk'),
      { name: q.get('name'), hostile: q.get('hostile') === '1', userId: q.get('userId'), userHash: q.get('userHash'),
        clobber: q.get('clobber') === '1', sound: q.get('sound') }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * A visitor in their own browser context (own localStorage) on a customer page embedding the widget.
 * Resolves once the widget is connected. Returns { context, page, url }.
 */
export async function openVisitor(browser, site, desk, name,
  { hostile = false, viewport = { width: 1024, height: 760 }, identity } = {}) {
  const context = await browser.newContext({ viewport });
  const q = new URLSearchParams({ desk, ...(name ? { name } : {}), ...(hostile ? { hostile: '1' } : {}), ...(identity ?? {}) });
  const url = `${site.url}/?${q}`;
  const page = await context.newPage();
  await page.goto(url);
  await widgetConnected(page);
  return { context, page, url };
}

/**
 * Resolves once the widget is connected. A widget that has not connected (state `idle`: a first page
 * view connects only when the visitor opens the chat, docs/widget.md) is connected as a visitor does
 * it: the launcher opens the panel, and once connected the Close button closes it again. A returning
 * visitor's widget connects by itself.
 */
export async function widgetConnected(page) {
  if (await page.evaluate(() => window.SupportChat?.state === 'idle')) {
    const w = widget(page);
    await w.launcher.click();
    await page.waitForFunction(() => window.SupportChat?.state === 'connected', null, { timeout: T });
    await w.close.click();
    await w.panel.waitFor({ state: 'hidden', timeout: T });
  }
  await page.waitForFunction(() => window.SupportChat?.state === 'connected', null, { timeout: T });
}

/** The widget's parts, by role (Playwright pierces the open shadow root). */
export function widget(page) {
  return {
    launcher: page.getByRole('button', { name: /support chat/ }),
    panel: page.getByRole('dialog', { name: 'Support' }),
    input: page.getByRole('textbox', { name: 'Message' }),
    send: page.getByRole('button', { name: 'Send' }),
    close: page.getByRole('button', { name: 'Close chat' }),
    log: page.getByRole('log', { name: 'Messages' }),
  };
}

/** Opens the panel (if closed), types `text` and presses Enter; resolves when the desk acked it ("Sent", or "Seen" once an agent read it). */
export async function visitorSays(page, text) {
  const w = widget(page);
  if (!(await w.panel.isVisible())) await w.launcher.click();
  await w.input.fill(text);
  await w.input.press('Enter');
  await w.log.getByRole('listitem').filter({ hasText: text }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
}

/** Resolves once the widget's log shows a message whose text is exactly `text`. */
export const widgetShows = (page, text) =>
  widget(page).log.getByText(text, { exact: true }).waitFor({ timeout: T });

/** An admin page signed in to `desk` (in `context`, a new tab). Signs in with `token` unless the
 *  context already is (the inbox keeps the sign-in per desk for every tab). Resolves once connected. */
export async function openAdmin(context, base, desk, { token = ADMIN_TOKEN } = {}) {
  const page = await context.newPage();
  await page.goto(`${base}/admin/chat?desk=${encodeURIComponent(desk)}`);
  const form = page.getByLabel('Admin token');
  const connected = page.getByRole('status').filter({ hasText: /^Connected$/ });
  await form.or(connected).first().waitFor({ timeout: T });
  if (await form.isVisible()) await signIn(page, token);
  await connected.waitFor({ timeout: T });
  return page;
}

export async function signIn(page, token) {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The admin page's parts, by role. */
export function inbox(page) {
  return {
    /** A sidebar row by its whole accessible name ("Ana, verified, online, 2 unread: preview"). */
    rowNamed: (pattern) => page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: pattern }),
    row: (name) => page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: new RegExp(`^${name}\\b`) }),
    rows: page.getByRole('navigation', { name: 'Conversations' }).getByRole('button'),
    input: page.getByRole('textbox', { name: 'Reply' }),
    note: page.getByRole('textbox', { name: 'Internal note' }),
    tab: (view) => page.getByRole('tab', { name: new RegExp(`^${view}\\b`) }),
    search: page.getByRole('searchbox', { name: 'Search conversations' }),
    action: (name) => page.getByRole('toolbar', { name: 'Conversation actions' }).getByRole('button', { name }),
    send: page.getByRole('button', { name: 'Send' }),
    log: page.getByRole('log', { name: 'Conversation' }),
    status: page.getByRole('status'),
  };
}

/** Resolves once the sidebar row of `name` announces `unread` unread messages (0: none). */
export function rowUnread(page, name, unread) {
  const row = inbox(page).row(name);
  const label = unread ? new RegExp(`^${name}\\b.*, ${unread} unread:`) : new RegExp(`^${name}\\b(?!.* unread:)`);
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: label }).waitFor({ timeout: T })
    .catch(async (err) => {
      throw new Error(`row ${name}: wanted ${unread} unread, row reads ${JSON.stringify(await row.textContent().catch(() => '?'))}: ${err.message}`);
    });
}

/** The admin selects `name` in the sidebar, types `text` and presses Enter; resolves when acked ("Sent", or "Seen" once the visitor saw it). */
export async function adminReplies(page, name, text) {
  const ui = inbox(page);
  await ui.row(name).click();
  await ui.input.fill(text);
  await ui.input.press('Enter');
  await ui.log.getByRole('listitem').filter({ hasText: text }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
}

/** Resolves when the document title is exactly `title`. */
export const titleIs = (page, title) =>
  page.waitForFunction((t) => document.title === t, title, { timeout: T }).catch(async (err) => {
    throw new Error(`title: wanted ${JSON.stringify(title)}, have ${JSON.stringify(await page.title())}: ${err.message}`);
  });

/** The desk's Worker variables on stage, as `make dev` sets them: any site may embed the widget
 *  (the customer site runs on a port only known once it starts). Origins are tested in
 *  tests/integration/abuse.test.js. */
export const DESK_VARS = { ALLOWED_ORIGINS: '*' };

/** The stage a browser test file runs on: the desk (`wrangler dev`, options as for
 *  `startWranglerDev`), a customer site embedding its widget, and Chromium. */
export async function startStage(deskOptions = {}) {
  const desk = await startWranglerDev({ vars: DESK_VARS, ...deskOptions });
  const site = await startHostSite(desk.url);
  const browser = await launch();
  return { desk, site, browser };
}

/** Takes a stage down, browser first; any part may be missing (a failed start, a desk mid-restart). */
export async function stopStage({ desk, site, browser } = {}) {
  await browser?.close();
  await site?.close();
  await desk?.stop();
}
