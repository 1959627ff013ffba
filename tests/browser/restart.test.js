// Browser: after `wrangler dev` is stopped and started again (same state, same port), widget and admin reconnect by themselves, nothing typed offline is lost, and routing still works.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWranglerDev, deskName, freePort, tempDir } from '../helpers/desk.js';
import {
  startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widgetConnected, widget, inbox,
  adminReplies, rowUnread, T, DESK_VARS } from './lib.js';

let desk, site, browser;
after(() => stopStage({ desk, site, browser }));

test('widget and admin reconnect on their own after wrangler dev restarts; queued messages go out; replies still reach only their visitor', { timeout: 240_000 }, async () => {
  const persistDir = tempDir('desk-browser-restart-');
  const port = await freePort();
  ({ desk, site, browser } = await startStage({ persistDir, port }));
  const d = deskName('restart');

  const A = await openVisitor(browser, site, d, 'Ann');
  const B = await openVisitor(browser, site, d, 'Ben');
  await visitorSays(A.page, 'before the restart');
  await visitorSays(B.page, 'Ben here');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await rowUnread(admin, 'Ann', 1);
  await inbox(admin).row('Ann').click();
  await inbox(admin).log.getByText('before the restart', { exact: true }).waitFor({ timeout: T });
  assert.equal(await A.page.evaluate(() => window.SupportChat.messages.length), 1);

  await desk.stop();
  desk = null;
  // both notice and say so
  await A.page.waitForFunction(() => window.SupportChat.state === 'reconnecting', null, { timeout: T });
  await inbox(admin).status.filter({ hasText: 'Reconnecting' }).waitFor({ timeout: T });

  // typed while the desk is down: shown as sending, sent when it is back
  const w = widget(A.page);
  await w.input.fill('typed while offline');
  await w.input.press('Enter');
  await w.log.getByRole('listitem').filter({ hasText: 'typed while offline' }).filter({ hasText: /Sending…$/ }).waitFor({ timeout: T });

  desk = await startWranglerDev({ persistDir, port, vars: DESK_VARS });
  await widgetConnected(A.page);
  await widgetConnected(B.page);
  await inbox(admin).status.filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });

  await w.log.getByRole('listitem').filter({ hasText: 'typed while offline' }).filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: T });
  await inbox(admin).log.getByText('typed while offline', { exact: true }).waitFor({ timeout: T });
  // still the same visitor with the same conversation (the token survived), nothing doubled
  assert.deepEqual(await A.page.evaluate(() => window.SupportChat.messages.map((m) => m.message)), ['before the restart', 'typed while offline']);

  await adminReplies(admin, 'Ann', 'Back online, Ann.');
  await adminReplies(admin, 'Ben', 'Back online, Ben.');
  await widgetShows(A.page, 'Back online, Ann.');
  await widgetShows(B.page, 'Back online, Ben.');
  assert.equal(await widget(B.page).log.getByText('Back online, Ann.').count(), 0);
  assert.equal(await widget(A.page).log.getByText('Back online, Ben.').count(), 0);
  await A.context.close();
  await B.context.close();
  await adminCtx.close();
});
