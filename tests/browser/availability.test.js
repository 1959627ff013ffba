// Browser: the widget says what is true. With nobody on the team online it reads "We're away, we
// reply by email" and, once the visitor has written, asks once for an email (validated; agents see
// it); with the inbox open it reads "We're online" with the agent's initials. The Settings page of
// the inbox: saved, read back after a reload, a refusal shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { ADMIN_TOKEN, startStage, stopStage, openVisitor, openAdmin, visitorSays, widget, inbox, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

const availabilityLine = (page) => widget(page).panel.locator('.avail');

test('no agent online: the widget says away, asks once for an email, and the agents see it', { timeout: 120_000 }, async () => {
  const d = deskName('away');
  const v = await openVisitor(browser, site, d, 'Ada');
  const w = widget(v.page);
  await w.launcher.click();
  await availabilityLine(v.page).getByText("We're away, we reply by email").waitFor({ timeout: T });
  const emailForm = w.panel.getByRole('form', { name: 'Email' });
  assert.equal(await emailForm.isVisible(), false, 'not asked before the visitor writes');

  await visitorSays(v.page, 'Is anyone there?');
  const field = emailForm.getByLabel('Get our reply by email (optional)');
  await field.waitFor({ timeout: T });
  await field.fill('not an address');
  await emailForm.getByRole('button', { name: 'Save' }).click();
  await emailForm.getByText('Please enter an address like name@example.com').waitFor({ timeout: T });
  await field.fill('ada@example.com');
  await emailForm.getByRole('button', { name: 'Save' }).click();
  await emailForm.getByText("Thanks: we'll reply by email").waitFor({ timeout: T });

  // the agents see it on the conversation
  const ownerCtx = await browser.newContext();
  const owner = await openAdmin(ownerCtx, desk.url, d);
  await inbox(owner).row('Ada').click();
  await owner.getByRole('button', { name: 'Email: ada@example.com' }).waitFor({ timeout: T });

  // a reload does not ask again
  await v.page.reload();
  await v.page.waitForFunction(() => window.SupportChat?.state === 'connected', null, { timeout: T });
  await widget(v.page).launcher.click();
  await availabilityLine(v.page).waitFor({ timeout: T });
  assert.equal(await widget(v.page).panel.getByRole('form', { name: 'Email' }).isVisible(), false, 'asked once');

  // with the inbox open, a new visitor (a fresh browser: nothing cached) reads "We're online"
  const other = await openVisitor(browser, site, d, 'Ben');
  await widget(other.page).launcher.click();
  const online = availabilityLine(other.page);
  await online.getByText("We're online").waitFor({ timeout: T });
  assert.equal(await online.locator('.who').textContent(), 'O', "the owner's initials");
  await Promise.all([v.context.close(), other.context.close(), ownerCtx.close()]);
});

test('the Settings page: saved by the owner, read back after a reload, a refusal shown', { timeout: 120_000 }, async () => {
  const d = deskName('settings');
  const ctx = await browser.newContext();
  const owner = await openAdmin(ctx, desk.url, d);
  const open = async () => {
    await owner.getByRole('button', { name: 'Settings' }).click();
    const page = owner.getByRole('region', { name: 'Settings' });
    await page.waitFor({ timeout: T });
    await page.getByLabel('Time zone').locator('option[value="UTC"]').waitFor({ state: 'attached', timeout: T });
    return page;
  };
  let s = await open();
  await s.getByLabel('Time zone').selectOption('Europe/Paris');
  await s.getByRole('checkbox', { name: 'Monday' }).check();
  await s.getByLabel('Monday opens').fill('08:30');
  await s.getByLabel('Monday closes').fill('18:00');
  await s.getByLabel('Holidays (dates as YYYY-MM-DD, one a line)').fill('2026-12-25\n2027-01-01');
  await s.getByLabel('Expected reply time').selectOption('hours');
  await s.getByLabel(/^Away message/).fill('We are closed: leave your email and we reply tomorrow.');
  await s.getByRole('button', { name: 'Save settings' }).click();
  await s.getByText('Saved', { exact: true }).waitFor({ timeout: T });

  await owner.reload();
  await owner.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T });
  s = await open();
  await owner.waitForFunction(() => document.getElementById('set-zone').value === 'Europe/Paris', null, { timeout: T });
  assert.equal(await s.getByRole('checkbox', { name: 'Monday' }).isChecked(), true);
  assert.equal(await s.getByRole('checkbox', { name: 'Tuesday' }).isChecked(), false);
  assert.equal(await s.getByLabel('Monday opens').inputValue(), '08:30');
  assert.equal(await s.getByLabel('Monday closes').inputValue(), '18:00');
  assert.equal(await s.getByLabel('Holidays (dates as YYYY-MM-DD, one a line)').inputValue(), '2026-12-25\n2027-01-01');
  assert.equal(await s.getByLabel('Expected reply time').inputValue(), 'hours');
  assert.equal(await s.getByLabel(/^Away message/).inputValue(), 'We are closed: leave your email and we reply tomorrow.');

  await s.getByLabel('Holidays (dates as YYYY-MM-DD, one a line)').fill('2026-02-30');
  await s.getByRole('button', { name: 'Save settings' }).click();
  await owner.getByRole('alert').filter({ hasText: 'holidays must be dates as YYYY-MM-DD' }).waitFor({ timeout: T });
  await ctx.close();
});

test('an idle inbox sets its agent away, and the next input brings it back', { timeout: 120_000 }, async () => {
  const d = deskName('idle');
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.clock.install(); // the inbox's timers and Date.now, moved by the test
  await page.goto(`${desk.url}/admin/chat?desk=${d}`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T });
  const mine = page.getByLabel('Your status');
  await page.waitForFunction(() => document.getElementById('my-status').value === 'online', null, { timeout: T });
  const online = async () => (await (await fetch(`${desk.url}/desks/${d}/status`, { cache: 'no-store' })).json()).online;
  assert.equal(await online(), true);

  await page.clock.runFor(10 * 60_000 + 31_000); // ten minutes without input, and one check
  await page.waitForFunction(() => document.getElementById('my-status').value === 'away', null, { timeout: T });
  assert.equal(await online(), false, 'the desk says away');
  await page.keyboard.press('Shift');
  await page.waitForFunction(() => document.getElementById('my-status').value === 'online', null, { timeout: T });
  assert.equal(await online(), true, 'back at the next input');

  await mine.selectOption('away'); // chosen by the agent: input does not undo it
  await page.waitForFunction(() => document.getElementById('my-status').value === 'away', null, { timeout: T });
  await page.keyboard.press('Shift');
  // a round trip on the same socket after the key: a status frame sent for it would be answered first
  await page.getByRole('button', { name: 'Team' }).click();
  await page.getByRole('list', { name: 'Members' }).getByRole('listitem').first().waitFor({ timeout: T });
  assert.equal(await mine.inputValue(), 'away');
  assert.equal(await online(), false);
  await ctx.close();
});
