// Browser: the inbox under a flood within the documented limits. 200 visitor sockets driven from Node write as fast as the desk lets them (bursts of 20, then 2 a second) while an agent works: the page has no long task over 50 ms, paints the sidebar at most once per animation frame without rebuilding rows, and a real customer's message shows in the open conversation, another's in its row, within 1 s of the ack; focus, draft and keyboard moves survive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deskName, connectVisitor, where } from '../helpers/desk.js';
import { startStage, stopStage, openAdmin, inbox, T, DESK_VARS } from './lib.js';

const FLOODERS = 200;
const FLOOD_MS = 12_000;
// The visitor frame limit's documented default (SECURITY.md, Limits): the desk runs with it, and
// each flooder spends exactly that, waiting out any `rate_limited` answer as the widget does.
const VISITOR_RATE = { perSec: 2, burst: 20 };

let desk, site, browser;
// Two hundred visitors from this one address: no per-address limit on new visitors (tested in
// tests/integration/abuse.test.js); the frame limits stay at their defaults.
before(async () => ({ desk, site, browser } = await startStage({ vars: { ...DESK_VARS, NEW_VISITORS_PER_IP: '0' } })));
after(() => stopStage({ desk, site, browser }));

/** A visitor socket writing at its limit: a bucket of the documented shape, refilled on each
 *  `tick`, and a `rate_limited` answer honoured (the refused message goes again after retryAfterMs). */
class Flooder {
  constructor(client, label, onAck) {
    Object.assign(this, { client, label, tokens: VISITOR_RATE.burst, at: Date.now(), pausedUntil: 0, n: 0 });
    this.retry = []; // messages refused as too fast, sent again first
    this.unacked = new Set();
    this.acked = 0;
    this.limited = 0;
    client.ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (f.type === 'ack') {
        this.unacked.delete(f.clientMsgId);
        this.acked += 1;
        onAck();
      } else if (f.type === 'error' && f.code === 'rate_limited') {
        this.limited += 1;
        this.pausedUntil = Date.now() + (Number(f.retryAfterMs) || 1000);
        this.tokens = 0;
        if (f.clientMsgId) this.retry.push(f.clientMsgId);
      }
    });
  }

  tick(now) {
    this.tokens = Math.min(VISITOR_RATE.burst, this.tokens + ((now - this.at) * VISITOR_RATE.perSec) / 1000);
    this.at = now;
    while (this.tokens >= 1 && now >= this.pausedUntil && this.client.open) {
      this.tokens -= 1;
      const clientMsgId = this.retry.shift() ?? `${this.label}-${(this.n += 1)}`;
      this.unacked.add(clientMsgId);
      this.client.send({ type: 'message', message: `${this.label} writes ${clientMsgId}`, clientMsgId });
    }
  }
}

/** The renderer main thread's tasks in a Chromium trace: { wall, cpu } in ms (`dur` and the
 *  thread time `tdur` of each top-level RunTask; `cpu` null where the event has no `tdur`: Chromium
 *  leaves it out of some tasks, ~10% of them in one run, all under 1 ms of wall time). */
function pageTasks(trace) {
  const events = trace.traceEvents ?? trace;
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  return events.filter((e) => e.ph === 'X' && e.name === 'RunTask' && main.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ wall: Math.round(e.dur / 1000), cpu: Number.isFinite(e.tdur) ? Math.round(e.tdur / 1000) : null }));
}

/** A customer writing one message; resolves with the desk's ack. */
async function says(client, message, clientMsgId) {
  client.send({ type: 'message', message, clientMsgId });
  // the desk may be a while behind the flood: the 1 s counts from the ack, so its wait is generous
  return client.next(where(`ack of ${clientMsgId}`, (f) => f.type === 'ack' && f.clientMsgId === clientMsgId), { timeout: 3 * T });
}

/**
 * Probes in the page, from now on: long tasks (PerformanceObserver 'longtask'), how many times the
 * sidebar's rows changed per animation frame, and `watch(key, where, userId, text)`: the time
 * (Date.now()) `text` first shows in the open conversation (`log`) or in the row of `userId` (`row`).
 */
function installProbes(page) {
  return page.evaluate(() => {
    const probe = { longTasks: [], frame: 0, paints: {}, seen: {}, watches: [] };
    window.floodProbe = probe;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push({ at: Math.round(e.startTime), ms: Math.round(e.duration) });
    }).observe({ type: 'longtask' });
    const frame = () => { probe.frame += 1; requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    const log = document.getElementById('log'), users = document.getElementById('users');
    const shows = { log: (w) => [...log.querySelectorAll('.text')].some((p) => p.textContent === w.text),
      row: (w) => users.querySelector(`button[data-user="${CSS.escape(w.userId)}"] .preview`)?.textContent === w.text };
    const check = () => {
      for (const w of [...probe.watches]) {
        if (!shows[w.where](w)) continue;
        probe.seen[w.key] = Date.now();
        probe.watches.splice(probe.watches.indexOf(w), 1);
      }
    };
    probe.watch = (key, where, userId, text) => { probe.watches.push({ key, where, userId, text }); check(); };
    // rows drawn or moved (the relative times refreshed by a timer are not a paint of rows). A second
    // paint in one frame counts only when it comes within 150 ms of the first: when the page is
    // stalled past 200 ms with no frame (a loaded machine: long tasks of 300-500 ms), the scheduler's
    // fallback timer rightly paints again (docs: "a hidden tab still within 200 ms").
    let last = { frame: -1, at: 0 };
    new MutationObserver((records) => {
      if (records.some((r) => r.target.nodeName !== 'TIME')) {
        const at = performance.now();
        const again = last.frame === probe.frame && at - last.at < 150;
        probe.paints[probe.frame] = again ? (probe.paints[probe.frame] ?? 0) + 1 : Math.max(probe.paints[probe.frame] ?? 0, 1);
        last = { frame: probe.frame, at };
      }
      check();
    }).observe(users, { childList: true, subtree: true, characterData: true });
    new MutationObserver(check).observe(log, { childList: true, subtree: true });
  });
}

test('200 visitors writing at their limit: no long task, one sidebar paint per frame, a real message on screen within 1 s of its ack', { timeout: 300_000 }, async () => {
  const d = deskName('flood');
  const rita = await connectVisitor(desk.url, d, { name: 'Rita' });
  const otto = await connectVisitor(desk.url, d, { name: 'Otto' });
  await rita.next('welcome');
  const { userId: ottoId } = await otto.next('welcome');
  await says(otto, 'Otto: my parcel is late', 'otto-1');
  await says(rita, 'Rita: I was charged twice', 'rita-1');

  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const admin = await openAdmin(ctx, desk.url, d);
  const ui = inbox(admin);
  await ui.row('Rita').click();
  await ui.log.getByText('Rita: I was charged twice', { exact: true }).waitFor({ timeout: T });
  await ui.input.fill('Half a reply to Rita');
  const ottoRow = await ui.row('Otto').elementHandle();

  // Waiting on the flood's acks (never on time): `until(check)` is re-checked on every one.
  const waiters = new Set();
  const onAck = () => { for (const w of [...waiters]) w(); };
  const until = (check, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(test); reject(new Error(`timed out: ${what}`)); }, 60_000);
    const test = () => { if (check()) { clearTimeout(timer); waiters.delete(test); resolve(); } };
    waiters.add(test);
    test();
  });
  const flooders = [];
  for (let i = 0; i < FLOODERS; i += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, FLOODERS - i) }, async (_, k) => {
      const label = `Flood ${String(i + k + 1).padStart(3, '0')}`;
      const client = await connectVisitor(desk.url, d, { name: label });
      await client.next('welcome', { timeout: T });
      return new Flooder(client, label, onAck);
    }));
    flooders.push(...batch);
  }

  await installProbes(admin);
  const cdp = await ctx.newCDPSession(admin);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const m0 = await metrics();
  await browser.startTracing(admin, { categories: ['toplevel', 'disabled-by-default-devtools.timeline', ...(process.env.FLOOD_TRACE ? ['devtools.timeline'] : [])] });
  const started = Date.now();
  // Load, not synchronisation: every 100 ms each flooder spends what its bucket holds.
  const pump = setInterval(() => { const now = Date.now(); for (const f of flooders) f.tick(now); }, 100);
  try {
    flooders.forEach((f) => f.tick(Date.now())); // the bursts, all at once
    // In the thick of it, once the bursts are through: two real customers write.
    const acked = () => flooders.reduce((s, f) => s + f.acked, 0);
    await until(() => acked() >= FLOODERS * VISITOR_RATE.burst, 'the bursts acked');
    await admin.evaluate((id) => {
      window.floodProbe.watch('rita', 'log', null, 'Rita: is my refund through?');
      window.floodProbe.watch('otto', 'row', id, 'Otto: still nothing, any news?');
    }, ottoId);
    const [ritaAck, ottoAck] = await Promise.all([
      says(rita, 'Rita: is my refund through?', 'rita-2'),
      says(otto, 'Otto: still nothing, any news?', 'otto-2'),
    ]);
    const ackedAt = Date.now();
    await admin.waitForFunction(() => window.floodProbe.seen.rita && window.floodProbe.seen.otto, null, { timeout: T, polling: 250 });
    const seen = await admin.evaluate(() => window.floodProbe.seen);
    const late = { rita: seen.rita - ritaAck.at, otto: seen.otto - ottoAck.at };
    console.log(`flood: the message shown ${late.rita} ms after it was stored (open conversation), ${late.otto} ms (row); ` +
      `ack received ${ackedAt - Math.max(ritaAck.at, ottoAck.at)} ms after storing`);
    assert.ok(late.rita <= 1000, `Rita's message reached the open conversation ${late.rita} ms after its ack`);
    assert.ok(late.otto <= 1000, `Otto's message reached his row ${late.otto} ms after its ack`);
    // The flood goes on at its steady rate for the rest of its time (load, not synchronisation).
    await new Promise((r) => setTimeout(r, Math.max(0, FLOOD_MS - (Date.now() - started))));
  } finally {
    clearInterval(pump);
  }
  const elapsed = Date.now() - started;
  const m1 = await metrics();
  const trace = String(await browser.stopTracing());
  if (process.env.FLOOD_TRACE) (await import('node:fs')).writeFileSync(process.env.FLOOD_TRACE, trace); // for a look in DevTools
  const tasks = pageTasks(JSON.parse(trace));
  const spent = (k) => Math.round((m1[k] - m0[k]) * 1000);
  console.log(`flood: page main thread busy ${spent('TaskDuration')} ms of ${elapsed} (script ${spent('ScriptDuration')}, ` +
    `style ${spent('RecalcStyleDuration')}, layout ${spent('LayoutDuration')})`);

  const probe = await admin.evaluate(() => ({ longTasks: window.floodProbe.longTasks, paints: Object.values(window.floodProbe.paints) }));
  const acked = flooders.reduce((s, f) => s + f.acked, 0);
  const limited = flooders.reduce((s, f) => s + f.limited, 0);
  console.log(`flood: ${acked} messages acked in ${elapsed} ms from ${FLOODERS} visitors (${limited} rate_limited answers waited out); ` +
    `sidebar painted in ${probe.paints.length} frames, at most ${Math.max(...probe.paints)} time(s) a frame; long tasks: ${JSON.stringify(probe.longTasks)}`);
  assert.ok(acked >= FLOODERS * (VISITOR_RATE.burst + 2 * VISITOR_RATE.perSec), `a real flood (${acked} acked)`);
  // A long task is measured in wall time, which on a shared machine includes the time other
  // processes held the CPU. The trace tells the page's own share (the main thread's CPU time):
  // the inbox must never spend 50 ms on one task; every wall-clock long task is reported above.
  // A task the trace gives no CPU time counts by its wall time, which bounds it from above.
  const untimed = tasks.filter((t) => t.cpu === null);
  const heavy = tasks.filter((t) => (t.cpu ?? t.wall) > 50);
  console.log(`flood: ${tasks.length} main-thread tasks traced; over 50 ms of wall time: ${tasks.filter((t) => t.wall > 50).length} ` +
    `(the longest ${Math.max(0, ...tasks.map((t) => t.wall))} ms), of CPU time: ${heavy.length} (the most ${Math.max(0, ...tasks.map((t) => t.cpu ?? 0))} ms); ` +
    `without CPU time in the trace: ${untimed.length} (the longest ${Math.max(0, ...untimed.map((t) => t.wall))} ms of wall time)`);
  assert.ok(tasks.length - untimed.length > 1000, 'the trace holds the page\'s tasks with their CPU time');
  assert.deepEqual(heavy, [], 'no task of the inbox spends over 50 ms of CPU during the flood');
  if (process.env.FLOOD_STRICT_WALL) assert.deepEqual(probe.longTasks, [], 'no long task over 50 ms (wall time) in the inbox');
  assert.ok(Math.max(...probe.paints) <= 1, 'the sidebar changes at most once per animation frame (or per 150 ms of a frame stalled that long)');
  assert.ok(probe.paints.length > 10, 'and it did change, frame after frame');

  // Incremental: Otto's row is the element it was, updated in place; the agent's work is intact.
  assert.equal(await ottoRow.evaluate((b) => b.isConnected && b.querySelector('.preview').textContent), 'Otto: still nothing, any news?');
  assert.equal(await ui.input.evaluate((el) => el === document.activeElement), true, 'the reply box kept the focus');
  assert.equal(await ui.input.inputValue(), 'Half a reply to Rita', 'the draft is untouched');
  await admin.getByRole('heading', { level: 2, name: 'Rita' }).waitFor({ timeout: T });
  await ui.rows.filter({ hasText: /^Flood \d{3}/ }).nth(FLOODERS - 1).waitFor({ timeout: T });

  // The keyboard still moves through the list, and Rita's draft comes back with her conversation.
  // (every flooder wrote after Rita: the row above hers is one of theirs, or Otto's)
  await ui.input.press('Alt+ArrowUp');
  await admin.getByRole('heading', { level: 2, name: /^(Flood \d{3}|Otto)$/ }).waitFor({ timeout: T });
  assert.equal(await ui.input.inputValue(), '', 'another conversation, its own (empty) draft');
  await ui.row('Rita').click();
  assert.equal(await ui.input.inputValue(), 'Half a reply to Rita');

  await Promise.all([...flooders.map((f) => f.client.close()), rita.close(), otto.close()]);
  await ctx.close();
});
