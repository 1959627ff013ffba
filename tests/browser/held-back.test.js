// Browser: a new visitor held back by the new-visitor limit of its network is told so in the panel,
// with when the widget will retry, and gets in by itself once the desk lets it (no "Reconnecting…"
// without explanation). The page is the desk's own demo page, so the test can act as one client
// address (CF-Connecting-IP, which workerd passes through locally) without a CORS preflight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { upgradeStatus } from '../helpers/desk.js';
import { startStage, stopStage, widget, widgetConnected, T, DESK_VARS } from './lib.js';

// One new visitor at once per address, then one every 10 s.
const VARS = { ...DESK_VARS, NEW_VISITORS_PER_IP: '1', NEW_VISITORS_PER_MIN: '6' };
let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage({ vars: VARS })));
after(() => stopStage({ desk, site, browser }));

test('held back as someone new: the panel says why and when, then the widget connects by itself', { timeout: 90_000 }, async () => {
  const ip = '198.18.99.7';
  // Someone else from the same address just took the address's only token.
  assert.equal((await upgradeStatus(desk.url, '/desks/demo/visitor', { 'CF-Connecting-IP': ip })).status, 101);
  const context = await browser.newContext({ extraHTTPHeaders: { 'CF-Connecting-IP': ip } });
  const page = await context.newPage();
  await page.goto(`${desk.url}/`);
  const w = widget(page);
  await w.launcher.click();
  const notice = w.panel.getByRole('status').filter({ hasText: /Many people are starting chats from your network/ });
  await notice.waitFor({ timeout: T });
  assert.match(await notice.textContent(), /We will connect you automatically in about \d+ seconds \(at \d/);
  assert.equal(await page.evaluate(() => window.SupportChat.state), 'waiting');
  await widgetConnected(page); // the retry at retryAfterMs gets in (one token per 10 s)
  assert.equal(await notice.isVisible(), false, 'the notice goes once connected');
  await context.close();
});
