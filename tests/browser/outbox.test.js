// Browser: what is typed while the desk is down (widget or admin page) shows "sending", goes out when the desk is back, shows "sent", and is stored exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWranglerDev, deskName, freePort, tempDir, connectAdmin } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widget, inbox, T, DESK_VARS } from './lib.js';

let desk, site, browser, persistDir, port;
before(async () => {
  persistDir = tempDir('desk-browser-outbox-');
  port = await freePort();
  ({ desk, site, browser } = await startStage({ persistDir, port }));
});
after(() => stopStage({ desk, site, browser }));

/** Stops the desk, runs `whileDown`, starts it again on the same storage and port. */
async function restartAround(whileDown) {
  await desk.stop();
  desk = null;
  await whileDown();
  desk = await startWranglerDev({ persistDir, port, vars: DESK_VARS });
}

/** The stored conversation of the visitor called `name` (what visitor and agents wrote: no notes or
 *  event lines), read back through a Node admin socket. */
async function storedTexts(d, name) {
  const admin = await connectAdmin(desk.url, d);
  try {
    const { users } = await admin.next('users');
    const row = users.find((r) => r.name === name);
    assert.ok(row, `${name} has a conversation`);
    admin.send({ type: 'history', userId: row.userId });
    return (await admin.next('history')).messages.filter((m) => m.sender === 'user' || m.sender === 'admin')
      .map((m) => `${m.sender}: ${m.message}`);
  } finally {
    await admin.close();
  }
}

test('a message typed in the widget while the desk is down shows "Sending…", then "Sent" once it is back, stored once', { timeout: 180_000 }, async () => {
  const d = deskName('outbox-visitor');
  const V = await openVisitor(browser, site, d, 'Omar');
  await visitorSays(V.page, 'Hello, anyone?');
  const w = widget(V.page);
  const typed = w.log.getByRole('listitem').filter({ hasText: 'typed while the desk is down' });

  await restartAround(async () => {
    await V.page.waitForFunction(() => window.SupportChat.state === 'reconnecting', null, { timeout: T });
    await w.input.fill('typed while the desk is down');
    await w.input.press('Enter');
    await typed.filter({ hasText: /· Sending…$/ }).waitFor({ timeout: T });
  });

  await typed.filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: 30_000 });
  assert.equal(await typed.count(), 1, 'shown once');
  assert.deepEqual(await storedTexts(d, 'Omar'), ['user: Hello, anyone?', 'user: typed while the desk is down']);
  await V.context.close();
});

test('an admin reply typed while the desk is down shows "Sending…", then "Sent" once it is back (the widget\'s words, from client/protocol.js), stored once and delivered once', { timeout: 180_000 }, async () => {
  const d = deskName('outbox-admin');
  const V = await openVisitor(browser, site, d, 'Pia');
  await visitorSays(V.page, 'Is the shop open on Sunday?');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  const ui = inbox(admin);
  await ui.row('Pia').click();
  await ui.log.getByText('Is the shop open on Sunday?', { exact: true }).waitFor({ timeout: T });
  const typed = ui.log.getByRole('listitem').filter({ hasText: 'Yes, from 10 to 4.' });

  await restartAround(async () => {
    await ui.status.filter({ hasText: 'Reconnecting' }).waitFor({ timeout: T });
    await ui.input.fill('Yes, from 10 to 4.');
    await ui.input.press('Enter');
    await typed.filter({ hasText: /· Sending…$/ }).waitFor({ timeout: T });
  });

  await typed.filter({ hasText: /· (Sent|Seen)$/ }).waitFor({ timeout: 30_000 });
  assert.equal(await typed.count(), 1, 'shown once in the inbox');
  await widgetShows(V.page, 'Yes, from 10 to 4.');
  assert.equal(await widget(V.page).log.getByText('Yes, from 10 to 4.', { exact: true }).count(), 1, 'delivered once');
  assert.deepEqual(await storedTexts(d, 'Pia'), ['user: Is the shop open on Sunday?', 'admin: Yes, from 10 to 4.']);
  await V.context.close();
  await adminCtx.close();
});
