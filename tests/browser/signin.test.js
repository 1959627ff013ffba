// Browser: the inbox's sign-in is kept per desk by the browser: a new tab is signed in without a prompt, and signing out in one tab signs out every other tab of that desk (and only that desk).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, rowUnread, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

test('a new tab is signed in without a prompt; signing out in one tab signs out the other', { timeout: 90_000 }, async () => {
  const d = deskName('signin');
  const other = deskName('signin-other');
  const V = await openVisitor(browser, site, d, 'Nadia');
  await visitorSays(V.page, 'Hello from Nadia');
  const context = await browser.newContext();
  const first = await openAdmin(context, desk.url, d); // signs in with the token
  await rowUnread(first, 'Nadia', 1);
  const elsewhere = await openAdmin(context, desk.url, other); // another desk: its own sign-in

  // a new tab of the same desk: straight into the inbox, the form never shows
  const second = await context.newPage();
  await second.goto(`${desk.url}/admin/chat?desk=${d}`);
  const form = second.getByLabel('Admin token');
  await rowUnread(second, 'Nadia', 1);
  assert.equal(await form.isVisible(), false, 'no sign-in prompt in a new tab');
  assert.match(await second.getByText(/ · owner$/).textContent(), /^Owner · owner$/, 'the header says who is signed in');

  // sign out in the second tab: the first follows, without a click of its own
  await second.getByRole('button', { name: 'Sign out' }).click();
  await form.waitFor({ timeout: T });
  await first.getByLabel('Admin token').waitFor({ timeout: T });
  await first.getByRole('alert').filter({ hasText: 'signed out in another tab' }).waitFor({ timeout: T });
  assert.equal(await first.getByRole('navigation', { name: 'Conversations' }).isVisible(), false, 'nothing of the desk stays on screen');
  assert.equal(await first.getByText('Hello from Nadia').count(), 0);
  // the other desk's tab is not signed out
  assert.equal(await elsewhere.getByLabel('Admin token').isVisible(), false);
  assert.equal(await elsewhere.getByRole('button', { name: 'Sign out' }).isVisible(), true);
  // and a reload of the signed-out desk asks again
  await first.reload();
  await first.getByLabel('Admin token').waitFor({ timeout: T });

  // signing in again in one tab signs in the other (the stored token reaches it)
  await first.getByLabel('Admin token').fill((await import('./lib.js')).ADMIN_TOKEN);
  await first.getByRole('button', { name: 'Sign in', exact: true }).click();
  await rowUnread(first, 'Nadia', 1);
  await rowUnread(second, 'Nadia', 1);
  await V.context.close();
  await context.close();
});
