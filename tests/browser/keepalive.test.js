// Browser: the widget's keep-alive. Every 25 s (page time, fast-forwarded) it sends the exact ping
// the runtime answers without waking the desk, and the pong comes back; the socket stays the same.
// Besides the pings it sends only the page report of its connect (who and where).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName } from '../helpers/desk.js';
import { startStage, stopStage, widgetConnected, T } from './lib.js';

let desk, site, browser;
before(async () => ({ desk, site, browser } = await startStage()));
after(() => stopStage({ desk, site, browser }));

test('the widget pings every 25 s with the auto-answered frame and gets its pong on the same socket', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.clock.install(); // the page's timers only; the desk runs on real time
  const sockets = [];
  const frames = [];
  let onPong = () => {};
  page.on('websocket', (ws) => {
    sockets.push(ws);
    ws.on('framesent', (f) => frames.push({ dir: 'out', data: String(f.payload) }));
    ws.on('framereceived', (f) => {
      frames.push({ dir: 'in', data: String(f.payload) });
      if (String(f.payload) === '{"type":"pong"}') onPong();
    });
  });
  await page.goto(`${site.url}/?${new URLSearchParams({ desk: deskName('keepalive'), name: 'Pat' })}`);
  await widgetConnected(page);
  const isReport = (f) => f.data.startsWith('{"type":"context"');
  assert.equal(frames.filter((f) => f.dir === 'out' && !isReport(f)).length, 0, 'nothing but the page report before the first 25 s');

  for (let round = 1; round <= 2; round += 1) {
    const pong = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no pong for ping ${round}: ${JSON.stringify(frames)}`)), T);
      onPong = () => { clearTimeout(timer); resolve(); };
    });
    await page.clock.fastForward(25_000);
    await pong;
  }
  const pings = frames.filter((f) => f.dir === 'out' && !isReport(f));
  assert.deepEqual(pings.map((f) => f.data), ['{"type":"ping"}', '{"type":"ping"}'], 'exactly the auto-answered frame');
  assert.equal(frames.filter((f) => f.dir === 'out' && isReport(f)).length, 1, 'the page reported once, on connect; never again unchanged');
  assert.equal(sockets.length, 1, 'the same socket throughout');
  assert.equal(await page.evaluate(() => window.SupportChat.state), 'connected');
  await context.close();
});
