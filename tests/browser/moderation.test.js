// Browser: the owner deletes a conversation and blocks a visitor from the conversation header (each confirmed first): the rows go, the visitors' widgets say the chat was closed and stop, a blocked visitor's reload stays closed, the Blocked tab lists it and Unblock lets it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widget, inbox, rowUnread, T, DESK_VARS } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, NEW_VISITORS_PER_IP: '0' } })));
after(() => stopStage({ desk, site, browser }));

const tabShows = (page, view, n) => page.getByRole('tab', { name: new RegExp(`^${view} ${n}$`) }).waitFor({ timeout: T });
const widgetClosed = (page) => page.waitForFunction(() => window.SupportChat?.state === 'closed', null, { timeout: T });

test('Delete and Block, confirmed; the widgets say the chat was closed and stay closed; Unblock from the Blocked tab', { timeout: 120_000 }, async () => {
  const d = deskName('moderate');
  const R = await openVisitor(browser, site, d, 'Rosa');
  await visitorSays(R.page, 'Buy cheap watches here');
  const S = await openVisitor(browser, site, d, 'Sven');
  await visitorSays(S.page, 'Please delete my data');
  const K = await openVisitor(browser, site, d, 'Kim');
  await visitorSays(K.page, 'A normal question');
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await rowUnread(admin, 'Kim', 1);
  const asked = [];
  admin.on('dialog', (dialog) => { asked.push(dialog.message()); dialog.accept(); });

  await ui.row('Sven').click();
  await ui.action('Delete').click();
  await ui.row('Sven').waitFor({ state: 'detached', timeout: T });
  assert.match(asked[0] ?? '', /Delete the conversation with Sven/, 'asked first');
  await widgetClosed(S.page);
  await widget(S.page).log.getByText('This chat was closed by the support team.').waitFor({ timeout: T });
  assert.equal(await widget(S.page).input.isDisabled(), true, 'nothing more to type');
  assert.equal(await ui.log.getByText('Please delete my data').count(), 0, 'the open conversation is cleared');

  await ui.row('Rosa').click();
  await ui.action('Block').click();
  await ui.row('Rosa').waitFor({ state: 'detached', timeout: T });
  assert.match(asked[1] ?? '', /Block Rosa/);
  await widgetClosed(R.page);
  await R.page.reload();
  await widgetClosed(R.page); // its token is refused with 403 blocked: no reconnect loop
  await tabShows(admin, 'Blocked', 1);
  await tabShows(admin, 'Open', 1);

  await ui.tab('Blocked').click();
  await ui.row('Rosa').click();
  await ui.log.getByText(/blocked this/).waitFor({ timeout: T }); // the event line, for the team
  await ui.action('Unblock').click();
  await ui.row('Rosa').waitFor({ state: 'detached', timeout: T });
  await tabShows(admin, 'Blocked', 0);
  await tabShows(admin, 'Open', 2);
  assert.equal(await widget(K.page).log.getByText('This chat was closed by the support team.').count(), 0, 'others are untouched');
  for (const v of [R, S, K]) await v.context.close();
  await ctx.close();
});
