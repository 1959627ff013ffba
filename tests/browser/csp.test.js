// Browser: under the desk's own CSP (demo page, inbox) and a customer's strict CSP nothing is blocked and the widget is really styled; no other page can frame the inbox or the demo page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openAdmin, visitorSays, widgetConnected, widget, adminReplies, widgetShows, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

const VIEWPORT = { width: 1024, height: 760 };

/** A context whose pages record every CSP violation (window.__violations) and console error (`errors`). */
async function watchedContext() {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript(() => {
    window.__violations = [];
    addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || '?'} (${e.sample || 'no sample'}) in ${e.sourceFile || e.documentURI}`);
    }, true);
  });
  const errors = [];
  context.on('console', (m) => {
    // the desk serves no favicon: the browser's own request for one is not the page's doing
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(m.text());
  });
  context.on('weberror', (e) => errors.push(e.error().message));
  return { context, errors };
}

/** Nothing was blocked and nothing went wrong on `page`. */
async function assertClean(page, errors) {
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'CSP violations');
  assert.deepEqual(errors, [], 'console errors');
}

/** The widget's styles applied: a fixed launcher bottom-right, a laid-out panel that opens over the page. */
async function assertWidgetStyled(page) {
  const w = widget(page);
  assert.equal(await w.launcher.evaluate((el) => getComputedStyle(el).position), 'fixed', 'the launcher is styled');
  const box = await w.launcher.boundingBox();
  assert.ok(box && box.width >= 44 && box.width <= 80, `launcher size: ${JSON.stringify(box)}`);
  assert.ok(box.x + box.width <= VIEWPORT.width && box.x + box.width > VIEWPORT.width - 40 &&
    box.y + box.height <= VIEWPORT.height && box.y + box.height > VIEWPORT.height - 40, `launcher bottom-right: ${JSON.stringify(box)}`);
  await w.launcher.click();
  await w.panel.waitFor({ timeout: T });
  assert.equal(await w.panel.evaluate((el) => getComputedStyle(el).position), 'fixed');
  const panel = await w.panel.boundingBox();
  assert.ok(panel && panel.width > 300 && panel.width < 420 && panel.height > 300 && panel.y + panel.height < box.y,
    `panel laid out above the launcher: ${JSON.stringify(panel)}`);
}

test('the demo page runs under the desk\'s CSP with nothing blocked, its own CSS and a styled, working widget', { timeout: 60_000 }, async () => {
  const { context, errors } = await watchedContext();
  const page = await context.newPage();
  const res = await page.goto(`${desk.url}/`);
  assert.match(res.headers()['content-security-policy'] ?? '', /^default-src 'self';/, 'the page really runs under the strict policy');
  await widgetConnected(page);
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(251, 248, 243)', '/demo.css applied');
  await assertWidgetStyled(page);
  await visitorSays(page, 'asked under a strict CSP');
  await assertClean(page, errors);
  await context.close();
});

test('on a customer site with a strict CSP (desk allowed for scripts and sockets only) the widget is styled and works', { timeout: 60_000 }, async () => {
  const d = deskName('strict');
  const { context, errors } = await watchedContext();
  const page = await context.newPage();
  const res = await page.goto(`${site.url}/?desk=${d}&name=Careful&csp=1`);
  assert.match(res.headers()['content-security-policy'] ?? '', /^default-src 'self'; script-src 'self' http:/, 'the customer page sends its CSP');
  await widgetConnected(page);
  await assertWidgetStyled(page);
  await visitorSays(page, 'hello from a careful site');

  const { context: adminCtx, errors: adminErrors } = await watchedContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Careful', 'Styled and delivered.');
  await widgetShows(page, 'Styled and delivered.');
  await assertClean(page, errors);
  // the inbox under its own CSP: its stylesheet applied, nothing blocked
  assert.equal(await admin.locator('header.top').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(29, 36, 51)', 'admin.css applied');
  await assertClean(admin, adminErrors);
  await context.close();
  await adminCtx.close();
});

test('where adopted style sheets are unsupported the widget falls back to a <style> (styled on a page without a CSP)', { timeout: 60_000 }, async () => {
  const { context, errors } = await watchedContext();
  await context.addInitScript(() => { delete ShadowRoot.prototype.adoptedStyleSheets; });
  const page = await context.newPage();
  await page.goto(`${site.url}/?desk=${deskName('old')}&name=Legacy`);
  await widgetConnected(page);
  assert.equal(await page.evaluate(() => document.querySelector('support-chat').shadowRoot.querySelectorAll('style').length), 1);
  await assertWidgetStyled(page);
  await assertClean(page, errors);
  await context.close();
});

test('no page frames the inbox, not even the desk\'s own; only the desk frames its demo page', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  /** Frames `src` in the current page; resolves with the frame's URL once it loaded (an error page when refused). */
  const frame = (src) => page.evaluate((s) => new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.name = s;
    f.src = s;
    f.addEventListener('load', () => resolve(), { once: true });
    document.body.append(f);
  }), src).then(() => page.frame({ name: src }).url());
  const REFUSED = 'chrome-error://chromewebdata/';

  await page.goto(`${desk.url}/`);
  assert.equal(await frame(`${desk.url}/admin/chat?desk=x`), REFUSED, 'the desk\'s own demo page cannot frame the inbox');
  assert.equal(await frame(`${desk.url}/`), `${desk.url}/`, 'the demo page may frame itself');

  await page.goto(`${site.url}/?desk=${deskName('frame')}`);
  assert.equal(await frame(`${desk.url}/admin/chat?desk=x`), REFUSED, 'another site cannot frame the inbox');
  assert.equal(await frame(`${desk.url}/`), REFUSED, 'another site cannot frame the demo page');
  await context.close();
});
