// Browser: axe-core finds no serious or critical violation in the widget (inside its shadow root, closed and open with a conversation) or the inbox (sign-in, sidebar, an open conversation with a note, a snoozed view, the Team page, the Saved replies page, the reply box's suggestions and the visitor panel), nor any of the ones issue #13 found: list items outside a list, row names that differ from their visible text, low contrast, a second banner landmark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widget, widgetShows, inbox, adminReplies, T } from './lib.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Rules issue #13 named, checked whatever impact axe gives them. `label-content-name-mismatch` is
 *  experimental in axe, so it is switched on. */
const NAMED = ['listitem', 'list', 'label-content-name-mismatch', 'color-contrast', 'landmark-no-duplicate-banner', 'landmark-unique'];

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

/**
 * axe-core run on `page` (open shadow roots included), limited to `include` (CSS selectors) if given.
 * Returns the violations that matter here, each as "rule (impact): target… — help".
 */
async function violations(page, include) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async ({ include, named }) => {
    const result = await window.axe.run(include ? { include: include.map((s) => [s]) } : document, {
      rules: { 'label-content-name-mismatch': { enabled: true } },
      resultTypes: ['violations'],
    });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical' || named.includes(v.id))
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(' ')} — ${v.help}`);
  }, { include, named: NAMED });
  return found;
}

test('the widget: closed with an unread reply, and open with a conversation (links, Arabic, a day separator)', { timeout: 120_000 }, async () => {
  const d = deskName('axe-widget');
  const V = await openVisitor(browser, site, d, 'Ada');
  await visitorSays(V.page, 'Hello, my order https://shop.example/orders/7 did not arrive');
  await visitorSays(V.page, 'مرحبا، هل يمكنكم المساعدة؟');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const w = widget(V.page);
  await w.close.click();
  await adminReplies(admin, 'Ada', 'Sorry about that: see https://help.example/shipping');
  await V.page.getByRole('button', { name: 'Open support chat, 1 unread' }).waitFor({ timeout: T });
  assert.deepEqual(await violations(V.page, ['support-chat']), [], 'the widget, closed');

  await w.launcher.click();
  await widgetShows(V.page, 'Sorry about that: see https://help.example/shipping');
  assert.deepEqual(await violations(V.page, ['support-chat']), [], 'the widget, open');
  assert.equal(await V.page.locator('support-chat').getByRole('banner').count(), 0, 'no banner landmark of its own on the host page');
  assert.deepEqual(await violations(V.page), [], 'the customer page with the widget open');
  await Promise.all([V.context.close(), adminCtx.close()]);
});

test('the inbox: the sign-in form, and the sidebar with an open conversation', { timeout: 120_000 }, async () => {
  const d = deskName('axe-inbox');
  const signInCtx = await browser.newContext();
  const signInPage = await signInCtx.newPage();
  await signInPage.goto(`${desk.url}/admin/chat?desk=${d}`);
  await signInPage.getByLabel('Admin token').waitFor({ timeout: T });
  assert.deepEqual(await violations(signInPage), [], 'the sign-in form');
  await signInCtx.close();

  const A = await openVisitor(browser, site, d, 'Omar');
  await visitorSays(A.page, 'مرحبا، طلبي لم يصل');
  const B = await openVisitor(browser, site, d, 'Bea');
  await visitorSays(B.page, 'Where is https://shop.example/orders/9 ?');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Omar', 'We are on it: https://help.example/track');
  const ui = inbox(admin);
  await ui.row('Bea').waitFor({ timeout: T });
  assert.deepEqual(await violations(admin), [], 'the inbox with an open conversation');

  // a note beside the reply, a snoozed conversation with its tag, then the Team page
  await admin.getByRole('radio', { name: 'Note' }).check();
  await ui.note.fill('Omar ordered twice: see https://admin.example/orders');
  await ui.note.press('Enter');
  await ui.log.getByRole('listitem').filter({ hasText: 'Omar ordered twice' }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
  await ui.row('Bea').click();
  await admin.getByLabel('Snooze').selectOption('hour');
  await ui.tab('Snoozed').click();
  await ui.rowNamed(/^Bea, online, snoozed\b/).waitFor({ timeout: T });
  assert.deepEqual(await violations(admin), [], 'a note, the Snoozed view');
  await admin.getByRole('button', { name: 'Team' }).click();
  await admin.getByRole('heading', { name: 'Team' }).waitFor({ timeout: T });
  assert.deepEqual(await violations(admin), [], 'the Team page');
  // the Saved replies page with one reply, then its suggestions open in the reply box
  await admin.getByRole('button', { name: 'Saved replies' }).click();
  const saved = admin.getByRole('region', { name: 'Saved replies' });
  await saved.getByLabel('Title').fill('Refund time');
  await saved.getByLabel(/^Shortcut/).fill('refund');
  await saved.getByLabel('Text').fill('Refunds take 5–7 days.');
  await saved.getByRole('button', { name: 'Save reply' }).click();
  await saved.getByText('/refund', { exact: true }).waitFor({ timeout: T });
  assert.deepEqual(await violations(admin), [], 'the Saved replies page');
  await saved.getByRole('button', { name: 'Back to the inbox' }).click();
  await ui.row('Bea').click();
  await ui.input.pressSequentially('/re');
  await admin.getByRole('listbox', { name: 'Saved replies' }).getByRole('option').first().waitFor({ timeout: T });
  assert.deepEqual(await violations(admin), [], 'the reply box offering saved replies, beside the visitor panel');
  await admin.getByRole('button', { name: 'Settings' }).click();
  await admin.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: T });
  await admin.getByLabel('Time zone').locator('option[value="UTC"]').waitFor({ state: 'attached', timeout: T });
  assert.deepEqual(await violations(admin), [], 'the Settings page');
  await Promise.all([A.context.close(), B.context.close(), adminCtx.close()]);
});
