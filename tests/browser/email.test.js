// Browser: the Settings page's "Email alerts". With email configured (the send_email binding
// of wrangler.toml, EMAIL_FROM and PUBLIC_URL) an agent opts in to unanswered-conversation emails
// and gives an address, read back after a reload, a bad address refused; without EMAIL_FROM and
// PUBLIC_URL the page says email is off. axe-core stays clean on the page.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName, EMAIL_VARS } from '../helpers/desk.js';
import { DESK_VARS, startStage, stopStage, openAdmin, T } from './lib.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** axe-core's serious and critical violations within `selector`. */
async function violations(page, selector) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (sel) => {
    const result = await window.axe.run({ include: [[sel]] }, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  }, selector);
}

const stages = [];
after(() => Promise.all(stages.map(stopStage)));

async function settingsPage(owner) {
  await owner.getByRole('button', { name: 'Settings' }).click();
  const page = owner.getByRole('region', { name: 'Settings' });
  await page.waitFor({ timeout: T });
  return page;
}

test('email on: an agent opts in to unanswered alerts, read back after a reload', { timeout: 120_000 }, async () => {
  const stage = await startStage({ vars: { ...DESK_VARS, ...EMAIL_VARS } });
  stages.push(stage);
  const ctx = await stage.browser.newContext();
  const owner = await openAdmin(ctx, stage.desk.url, deskName('alerts'));
  let s = await settingsPage(owner);
  const alerts = s.getByRole('form', { name: 'Email alerts' });
  await alerts.getByLabel('Send my alerts to').waitFor({ timeout: T });
  assert.equal(await s.getByText(/^Email is off/).isVisible(), false, 'email is on');
  await alerts.getByLabel('Send my alerts to').fill('not an address');
  await alerts.getByRole('button', { name: 'Save alerts' }).click();
  await s.getByRole('alert').filter({ hasText: /email must be an address/ }).waitFor({ timeout: T });
  await alerts.getByRole('checkbox', { name: 'Email me when a conversation is unanswered' }).check();
  await alerts.getByLabel('Send my alerts to').fill('owner@team.example');
  await alerts.getByRole('button', { name: 'Save alerts' }).click();
  await alerts.getByText('Saved', { exact: true }).waitFor({ timeout: T });

  await owner.reload();
  await owner.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T });
  s = await settingsPage(owner);
  await owner.waitForFunction(() => document.getElementById('alerts-email').value === 'owner@team.example', null, { timeout: T });
  assert.equal(await s.getByRole('checkbox', { name: 'Email me when a conversation is unanswered' }).isChecked(), true);
  assert.deepEqual(await violations(owner, '#settings'), [], 'the Settings page with its alerts');
  await ctx.close();
});

test('email off: the Settings page says so', { timeout: 120_000 }, async () => {
  const stage = await startStage();
  stages.push(stage);
  const ctx = await stage.browser.newContext();
  const owner = await openAdmin(ctx, stage.desk.url, deskName('noalerts'));
  const s = await settingsPage(owner);
  await s.getByText(/^Email is off on this desk/).waitFor({ timeout: T });
  await ctx.close();
});
