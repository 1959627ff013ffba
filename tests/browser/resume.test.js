// Browser: a dropped connection never needs a reload: after the desk restarts, widget and admin page resume by sequence (since + epoch) and show the reply they missed exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWranglerDev, deskName, freePort, tempDir, connectAdmin } from '../helpers/desk.js';
import { startStage, stopStage, openVisitor, openAdmin, visitorSays, widgetShows, widget, inbox, adminReplies, T, DESK_VARS } from './lib.js';

let desk, site, browser, nodeAdmin;
after(async () => {
  await nodeAdmin?.close();
  await stopStage({ desk, site, browser });
});

/** Every WebSocket the page opens from now on: its URL and the JSON frames it received. */
function recordSockets(page) {
  const sockets = [];
  page.on('websocket', (ws) => {
    const s = { url: new URL(ws.url()), frames: [] };
    sockets.push(s);
    ws.on('framereceived', ({ payload }) => { try { s.frames.push(JSON.parse(payload)); } catch { /* not JSON */ } });
  });
  return sockets;
}

const MISSED = 'Found it: your parcel arrives tomorrow.';

test('after a desk restart, widget and admin page resume by since + epoch and show a reply they missed exactly once, without a reload', { timeout: 240_000 }, async () => {
  const persistDir = tempDir('desk-browser-resume-');
  const port = await freePort();
  ({ desk, site, browser } = await startStage({ persistDir, port }));
  const d = deskName('resume');

  const V = await openVisitor(browser, site, d, 'Rita');
  await visitorSays(V.page, 'My parcel is late.');
  const adminCtx = await browser.newContext();
  const admin = await openAdmin(adminCtx, desk.url, d);
  await adminReplies(admin, 'Rita', 'Let me check.');
  await widgetShows(V.page, 'Let me check.');
  assert.equal((await V.page.evaluate(() => window.SupportChat.messages)).length, 2);

  const visitorSockets = recordSockets(V.page);
  const adminSockets = recordSockets(admin);
  for (const page of [V.page, admin]) await page.evaluate(() => { window.__marker = 'the same page'; });

  // Both browsers are cut off (new sockets fail) while the desk restarts, so only the Node admin can
  // reach it at first: its reply is one the pages can only get by resuming.
  await V.context.setOffline(true);
  await adminCtx.setOffline(true);
  await desk.stop();
  desk = await startWranglerDev({ persistDir, port, vars: DESK_VARS });
  await V.page.waitForFunction(() => window.SupportChat.state === 'reconnecting', null, { timeout: T });
  await inbox(admin).status.filter({ hasText: 'Reconnecting' }).waitFor({ timeout: T });

  nodeAdmin = await connectAdmin(desk.url, d);
  const { users, epoch } = await nodeAdmin.next('users');
  const rita = users.find((r) => r.name === 'Rita');
  nodeAdmin.send({ type: 'history', userId: rita.userId });
  const stored = (await nodeAdmin.next('history')).messages;
  const seen = stored.at(-1).seq; // the last seq the admin page saw (event lines included)
  const seenByVisitor = stored.filter((m) => m.sender === 'user' || m.sender === 'admin').at(-1).seq; // the widget never gets events
  nodeAdmin.send({ type: 'message', targetUserId: rita.userId, message: MISSED, clientMsgId: 'node-reply-1' });
  const ack = await nodeAdmin.next('ack');

  await V.context.setOffline(false);
  await adminCtx.setOffline(false);
  await widgetShows(V.page, MISSED);
  await inbox(admin).log.getByText(MISSED, { exact: true }).waitFor({ timeout: T });
  await inbox(admin).status.filter({ hasText: 'Connected' }).waitFor({ timeout: T });

  // exactly once, nothing else doubled, and still the same pages
  assert.equal(await V.page.getByText(MISSED, { exact: true }).count(), 1, 'the widget shows the missed reply once');
  assert.equal(await inbox(admin).log.getByText(MISSED, { exact: true }).count(), 1, 'the admin page shows it once');
  assert.deepEqual(await V.page.evaluate(() => window.SupportChat.messages.map((m) => m.message)),
    ['My parcel is late.', 'Let me check.', MISSED]);
  // three messages (the event line of the first reply's assignment aside)
  assert.equal(await inbox(admin).log.locator('li.msg:not(.event)').count(), 3);
  for (const page of [V.page, admin]) assert.equal(await page.evaluate(() => window.__marker), 'the same page', 'no reload');

  // every reconnect asked to resume from what the page had seen, and the desk resumed it
  for (const [who, sockets, first, since] of [['widget', visitorSockets, 'welcome', seenByVisitor], ['admin page', adminSockets, 'users', seen]]) {
    assert.ok(sockets.length > 0, `${who} reconnected`);
    for (const { url } of sockets) {
      assert.equal(url.searchParams.get('epoch'), epoch, `${who} reconnect carries the epoch: ${url}`);
      assert.equal(url.searchParams.get('since'), String(since), `${who} reconnect carries since: ${url}`);
    }
    const opened = sockets.filter((s) => s.frames.some((f) => f.type === first));
    assert.equal(opened.length, 1, `${who}: one socket got through`);
    assert.equal(opened[0].frames.find((f) => f.type === first).resumed, true, `${who}: the desk resumed`);
  }
  const welcome = visitorSockets.flatMap((s) => s.frames).find((f) => f.type === 'welcome');
  assert.deepEqual(welcome.messages.map((m) => m.id), [ack.id], 'the widget was sent exactly what it missed');
  const replayed = adminSockets.flatMap((s) => s.frames).filter((f) => f.type === 'message');
  assert.deepEqual(replayed.map((m) => m.id), [ack.id], 'the admin page was sent exactly what it missed');

  // a reload resumes too: the resume point is kept with the token, and the view comes back whole
  const reloadSockets = recordSockets(V.page);
  await V.page.reload();
  await V.page.waitForFunction(() => window.SupportChat?.state === 'connected', null, { timeout: T });
  await widget(V.page).launcher.click();
  await widgetShows(V.page, MISSED);
  assert.equal(reloadSockets[0].url.searchParams.get('since'), String(ack.seq), `reload resumes: ${reloadSockets[0].url}`);
  assert.equal(reloadSockets[0].frames.find((f) => f.type === 'welcome')?.resumed, true);
  assert.deepEqual(await V.page.evaluate(() => window.SupportChat.messages.map((m) => m.message)),
    ['My parcel is late.', 'Let me check.', MISSED]);

  await V.context.close();
  await adminCtx.close();
});
