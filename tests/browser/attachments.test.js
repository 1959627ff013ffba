// Browser: files. An image pasted into the widget is uploaded (a ticket, then the file), shown to the visitor as a thumbnail, and appears in the inbox as a thumbnail loaded through its signed URL; a file the desk would refuse is not sent, and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widget, inbox, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

/** A 1×1 PNG, as a screenshot tool would put on the clipboard. */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** axe-core's serious and critical violations in `include` (open shadow roots included), as in a11y.test.js. */
async function violations(page, include) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (include) => {
    const result = await window.axe.run(include ? { include: [[include]] } : document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  }, include);
}

/** Pastes a file into the widget's message box, as Ctrl+V with an image on the clipboard does. */
const paste = (page, { name, type, base64 }) => page.evaluate(({ name, type, base64 }) => {
  const box = document.querySelector('support-chat').shadowRoot.querySelector('textarea');
  const data = new DataTransfer();
  data.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type }));
  box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
}, { name, type, base64 });

/** Resolves once `image` (a locator) has loaded a picture. */
const loaded = (image) => image.evaluate((img) => new Promise((resolve, reject) => {
  if (img.complete && img.naturalWidth > 0) return resolve(img.naturalWidth);
  img.addEventListener('load', () => resolve(img.naturalWidth), { once: true });
  img.addEventListener('error', () => reject(new Error('the thumbnail did not load: ' + img.src)), { once: true });
}));

test('an image pasted in the widget appears in the inbox as a thumbnail, through a signed URL', { timeout: 120_000 }, async () => {
  const d = deskName('paste');
  const V = await openVisitor(browser, site, d, 'Pia');
  await visitorSays(V.page, 'the checkout looks broken, see');
  await paste(V.page, { name: 'screenshot.png', type: 'image/png', base64: PIXEL });

  const mine = widget(V.page).log.getByRole('img', { name: 'screenshot.png' });
  await mine.waitFor({ timeout: T });
  assert.equal(await loaded(mine), 1, 'the visitor sees its own thumbnail');
  assert.match(await mine.getAttribute('src'), new RegExp(`^${desk.url}/desks/${d}/files/[^/]+/[^/?]+\\?expires=\\d+&sig=[0-9a-f]{64}$`));

  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await ui.row('Pia').click();
  const thumb = ui.log.getByRole('img', { name: 'screenshot.png' });
  await thumb.waitFor({ timeout: T });
  assert.equal(await loaded(thumb), 1, 'the agent sees it too, loaded through its own signed URL');
  const link = ui.log.getByRole('link', { name: 'screenshot.png' });
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await ui.log.getByRole('listitem').filter({ has: thumb }).locator('script, iframe, object').count(), 0);
  assert.deepEqual(await violations(admin), [], 'the inbox with a thumbnail and the Attach button');
  assert.deepEqual(await violations(V.page, 'support-chat'), [], 'the widget with a thumbnail and the Attach button');

  // a file the desk would refuse is not sent: the widget says why
  await paste(V.page, { name: 'page.html', type: 'text/html', base64: btoa('<b>hi</b>') });
  await V.page.getByRole('status').filter({ hasText: 'Not sent: images, PDF' }).waitFor({ timeout: T });
  await Promise.all([V.context.close(), adminCtx.close()]);
});
