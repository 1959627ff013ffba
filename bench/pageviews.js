// The page-view scenario (issue 14, docs/performance.md): what the widget costs a host site that
// has many visitors and few chats. Real Chromium loads a tiny host page embedding /widget.js `views`
// times (in one tab: the quiet views as iframes, 97 at a time; see pageViews); 3% of the views open
// the chat and write one message (a conversation). Every view is a new visitor (the tab's storage is
// cleared after a chat). Counted on both sides:
// in the browser, each request for the chat file, each ticket and status request and each WebSocket
// the widget opened; at the desk, the visitor rows stored (read from its SQLite files). Sockets
// opened and visitor rows created must equal the conversations, not the page views.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// The host page is answered by Playwright (route), which Chromium counts as a public address
// that may not reach loopback: the local-network check is off, as for a page the desk served itself.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=LocalNetworkAccessChecks'];
const T = 20_000;

/** Visitor rows stored by every desk object under `persistDir` (wrangler dev's SQLite files). */
export function visitorRows(persistDir) {
  if (!existsSync(persistDir)) return 0;
  const files = readdirSync(persistDir, { recursive: true }).filter((f) => /Desk\/[0-9a-f]{64}\.sqlite$/.test(f));
  let rows = 0;
  for (const file of files) {
    try {
      rows += Number(execFileSync('sqlite3', [join(persistDir, file), 'SELECT COUNT(*) FROM visitors'], { encoding: 'utf8' }));
    } catch { /* an object without a visitors table */ }
  }
  return rows;
}

const ARTICLE = '<h1>An article</h1><p>What the visitor came for.</p>';
const hostPage = (desk) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A host page</title></head>
<body>${ARTICLE}<script src="/widget.js" data-desk="${desk}" defer></script></body></html>`;

/**
 * Runs `views` page views against the desk at `baseUrl` (its state persisted in `persistDir`);
 * `openPercent` of every 100 open the chat. The others (the views that cost the desk nothing, or
 * should) run as whole documents in iframes, a block of them at a time: each its own window that
 * loads /widget.js as a page would; a chatting view is a navigation of the tab to the host page.
 */
export async function pageViews({ baseUrl, persistDir, views, openPercent = 3, log = () => {} }) {
  const desk = `pageviews-${Date.now().toString(36)}`;
  const hostUrl = `${baseUrl}/bench-host-page`; // the desk's own origin: allowed to embed its widget
  const frameHtml = `<!doctype html><title>A host page</title>${ARTICLE}<script src="${baseUrl}/widget.js" data-desk="${desk}" defer></script>`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const counts = { chatLoads: 0, tickets: 0, statusRequests: 0, widgetLoads: 0, socketsOpened: 0, idleAfterLoad: 0, ticketStatuses: {} };
  const rowsBefore = visitorRows(persistDir);
  const started = Date.now();
  let conversations = 0, done = 0;
  const timing = { quietMs: 0, chatMs: 0 };
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const serve = (ctx) => ctx.route(`${hostUrl}*`, (route) => route.fulfill({ contentType: 'text/html',
      body: route.request().url().includes('frames') ? '<!doctype html><title>Frames</title>' : hostPage(desk) }));
    await serve(context);
    const countOn = (tab) => {
      tab.on('request', (r) => {
        const path = new URL(r.url()).pathname;
        if (path === '/widget.js') counts.widgetLoads++;
        else if (path === '/widget-chat.js') counts.chatLoads++;
        else if (path.endsWith('/visitor/ticket')) counts.tickets++;
        else if (path.endsWith('/status')) counts.statusRequests++;
      });
      tab.on('websocket', () => { counts.socketsOpened++; });
      tab.on('response', (r) => {
        if (!r.url().endsWith('/visitor/ticket')) return;
        counts.ticketStatuses[r.status()] = (counts.ticketStatuses[r.status()] || 0) + 1;
      });
    };
    countOn(page);
    while (done < views) {
      const block = Math.min(100, views - done);
      const quiet = Math.max(0, block - openPercent);
      const t0 = Date.now();
      // the quiet views of this block: whole documents side by side, then gone
      await page.goto(`${hostUrl}?frames`);
      counts.idleAfterLoad += await page.evaluate(({ html, n }) => new Promise((resolve) => {
        let left = n;
        const frames = [];
        const loaded = () => {
          if (--left) return;
          const idle = frames.filter((f) => f.contentWindow.SupportChat?.state === 'idle').length;
          for (const f of frames) f.remove();
          resolve(idle);
        };
        for (let k = 0; k < n; k++) {
          const frame = document.createElement('iframe');
          frame.addEventListener('load', loaded);
          frame.srcdoc = html;
          frames.push(frame);
          document.body.append(frame);
        }
        if (!n) resolve(0);
      }), { html: frameHtml, n: quiet });
      done += quiet;
      timing.quietMs += Date.now() - t0;
      const t1 = Date.now();
      // the views that chat, side by side, each a visitor of its own (own storage): opens the panel,
      // writes, waits for the desk's ack
      await Promise.all(Array.from({ length: block - quiet }, async (_, k) => {
        const view = done + k;
        const own = await browser.newContext();
        await serve(own);
        const tab = await own.newPage();
        countOn(tab);
        await tab.goto(`${hostUrl}?view=${view}`);
        await tab.waitForFunction(() => window.SupportChat?.state, null, { timeout: T });
        await tab.evaluate(() => window.SupportChat.open());
        const input = tab.getByRole('textbox', { name: 'Message' });
        await input.fill(`Question from view ${view}`);
        await input.press('Enter');
        await tab.getByRole('log', { name: 'Messages' }).getByText(/· Sent$/).waitFor({ timeout: T }).catch(async (e) => {
          throw new Error(`view ${view}: the chat never acked (state ${await tab.evaluate(() => window.SupportChat.state)}): ${e.message}`);
        });
        conversations++;
        await own.close();
      }));
      done = done + block - quiet;
      timing.chatMs += Date.now() - t1;
      if (done % 1000 === 0) log(`page views: ${done}/${views}, ${conversations} conversations`);
    }
  } finally {
    await browser.close();
  }
  const visitorRowsCreated = visitorRows(persistDir) - rowsBefore;
  const result = { views, openPercent, conversations, ...counts, visitorRowsCreated, ...timing, seconds: Math.round((Date.now() - started) / 100) / 10 };
  // Tickets may exceed the conversations: a ticket request answered without a ticket (see
  // ticketStatuses) is asked again by the widget. A ticket creates no visitor.
  result.ok = result.socketsOpened === conversations && visitorRowsCreated === conversations &&
    result.chatLoads === conversations && result.idleAfterLoad === views - conversations;
  return result;
}
