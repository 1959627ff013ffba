// Browser: who and where. A visitor on the demo shop (a single-page app: a product opens with history.pushState) in German on Berlin time; the inbox's "About this visitor" panel shows the page as a link, the visit's pages after the in-app navigation (seen without the widget patching history), language, local time, browser and OS, place. And saved replies: created on the Saved replies page, offered after "/" in the reply box, inserted with the keyboard.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStage, stopStage, openAdmin, inbox, widget, widgetConnected, visitorSays, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

test('the context panel follows a single-page app\'s navigation, observed without patching history', { timeout: 120_000 }, async () => {
  const visitorCtx = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin', viewport: { width: 1024, height: 760 } });
  const shop = await visitorCtx.newPage();
  await shop.goto(`${desk.url}/?utm_source=newsletter`);
  await widgetConnected(shop);
  assert.ok(await shop.evaluate(() => [history.pushState, history.replaceState].every((f) => /\[native code\]/.test(Function.prototype.toString.call(f)))),
    'history is not patched');
  await visitorSays(shop, 'Is the Gooseneck Pro in stock?');
  await widget(shop).close.click();

  const adminCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const admin = await openAdmin(adminCtx, desk.url, 'demo');
  const ui = inbox(admin);
  await ui.rowNamed(/Is the Gooseneck Pro in stock\?/).click();
  const panel = admin.getByRole('group', { name: 'About this visitor' });
  // each fact is a <dt>/<dd> pair; its value is the <dd> after the term
  const fact = (label) => panel.locator('.fact').filter({ has: admin.getByRole('term').filter({ hasText: new RegExp(`^${label}$`) }) }).getByRole('definition');
  const pageLink = panel.getByRole('link', { name: 'Acme Kettles: the demo shop' }).first();
  await pageLink.waitFor({ timeout: T });
  assert.equal(await pageLink.getAttribute('href'), `${desk.url}/?utm_source=newsletter`);
  assert.equal(await pageLink.getAttribute('rel'), 'noopener noreferrer nofollow');

  // an in-app navigation: pushState, a new title; the panel follows
  await shop.getByRole('link', { name: 'View the Gooseneck Pro' }).click();
  await shop.waitForFunction(() => document.title === 'Gooseneck Pro · Acme Kettles');
  const product = panel.getByRole('link', { name: 'Gooseneck Pro · Acme Kettles' });
  await product.first().waitFor({ timeout: T });
  assert.equal(await product.first().getAttribute('href'), `${desk.url}/?kettle=gooseneck-pro`);
  const pages = panel.getByRole('list', { name: 'Pages this visit' }).getByRole('listitem');
  await admin.waitForFunction(() => document.querySelectorAll('#context-pages li').length === 2, null, { timeout: T });
  assert.match(await pages.nth(0).textContent(), /^Acme Kettles: the demo shop \d\d:\d\d( [AP]M)?$/);
  assert.match(await pages.nth(1).textContent(), /^Gooseneck Pro · Acme Kettles \d\d:\d\d( [AP]M)?$/);
  // Back (popstate) is followed too
  await shop.goBack();
  await admin.waitForFunction(() => document.querySelectorAll('#context-pages li').length === 3, null, { timeout: T });
  // a navigation made by script alone (no click, no popstate): the Navigation API tells the widget
  await shop.evaluate(() => { history.pushState({}, '', '/?kettle=travel-mini'); document.title = 'Travel Mini · Acme Kettles'; });
  await panel.getByRole('link', { name: 'Travel Mini · Acme Kettles' }).first().waitFor({ timeout: T });
  assert.equal(await pages.count(), 4);

  assert.equal(await fact('Language').textContent(), 'de-DE');
  assert.match(await fact('Local time').textContent(), /^\S+ \d\d:\d\d( [AP]M)? \(Europe\/Berlin\)$/);
  assert.match(await fact('Browser').textContent(), /^Chrome \d+ on Linux$/);
  assert.match(await fact('Location').textContent(), /\S/, 'wrangler dev gives request.cf a place');
  assert.match(await fact('Visits').textContent(), /^1, this one since /);
  assert.ok(await fact('First seen').isVisible());
  await Promise.all([visitorCtx.close(), adminCtx.close()]);
});

test('saved replies: created on their page, offered after "/" in the reply box, inserted with the keyboard', { timeout: 120_000 }, async () => {
  const adminCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const admin = await openAdmin(adminCtx, desk.url, 'demo');
  await admin.getByRole('button', { name: 'Saved replies' }).click();
  const page = admin.getByRole('region', { name: 'Saved replies' });
  for (const [title, shortcut, text] of [['Refund time', 'refund', 'Refunds take 5–7 days.'], ['Opening hours', 'hours', 'We answer 9:00–18:00 CET.']]) {
    await page.getByLabel('Title').fill(title);
    await page.getByLabel(/^Shortcut/).fill(shortcut);
    await page.getByLabel('Text').fill(text);
    await page.getByRole('button', { name: 'Save reply' }).click();
    await page.getByRole('list', { name: 'Saved replies' }).getByText('/' + shortcut, { exact: true }).waitFor({ timeout: T });
  }
  await page.getByRole('button', { name: 'Back to the inbox' }).click();

  const ui = inbox(admin);
  await ui.rows.first().click();
  await ui.input.fill('');
  await ui.input.pressSequentially('Hi! /re');
  const listbox = admin.getByRole('listbox', { name: 'Saved replies' });
  await listbox.getByRole('option', { name: /Refund time/ }).waitFor({ timeout: T });
  assert.equal(await listbox.getByRole('option').count(), 1, 'only the shortcut that matches');
  assert.equal(await listbox.getByRole('option', { selected: true }).count(), 1);
  await ui.input.press('Enter');
  await listbox.waitFor({ state: 'hidden', timeout: T });
  assert.equal(await ui.input.inputValue(), 'Hi! Refunds take 5–7 days.', 'inserted in place of "/re", not sent');
  assert.equal(await ui.log.getByText('Refunds take 5–7 days.').count(), 0);

  // every reply for a bare "/", arrows to move, Tab inserts; Escape closes without inserting
  await ui.input.press('End');
  await ui.input.pressSequentially(' /');
  await listbox.getByRole('option').nth(1).waitFor({ timeout: T });
  await ui.input.press('ArrowDown');
  assert.match(await listbox.getByRole('option', { selected: true }).textContent(), /Refund time/);
  await ui.input.press('ArrowUp');
  assert.match(await listbox.getByRole('option', { selected: true }).textContent(), /Opening hours/);
  await ui.input.press('Tab');
  assert.equal(await ui.input.inputValue(), 'Hi! Refunds take 5–7 days. We answer 9:00–18:00 CET.');
  await ui.input.pressSequentially(' /ho');
  await listbox.getByRole('option', { name: /Opening hours/ }).waitFor({ timeout: T });
  await ui.input.press('Escape');
  await listbox.waitFor({ state: 'hidden', timeout: T });
  assert.match(await ui.input.inputValue(), / \/ho$/);
  await adminCtx.close();
});
