// Load generator for one implementation, run as a child process of run.js (own event loop, own fds).
//
// It holds N visitor sockets and one admin socket on one desk and runs what run.js asks over IPC:
// connect, a rate ramp of routed replies (admin -> visitor) or of visitor messages (visitor ->
// admin, with unread checks), every visitor typing (ours only), and single probes for the
// hibernation wake-up. Every send is a
// real protocol `message` with a clientMsgId, so each one is stored by the server as in production.
import WebSocket from 'ws';
import { summary, round } from './stats.js';

const [, , name, baseUrl, desk, adminToken, localAddrs = ''] = process.argv;
const wsBase = baseUrl.replace(/^http/, 'ws');
// Source addresses (127.0.0.x) the visitor sockets are spread over, round robin: one address has
// only ~28k ephemeral ports towards one server port (bench/scale.js passes several).
const sources = localAddrs.split(',').filter(Boolean);
let opened = 0;
const visitors = []; // { ws, userId }
let admin = null;
const pending = new Map(); // key -> send time (performance.now())
let onDelivered = null; // (key, latencyMs) during a step
let stepErrors = 0;
let stepDropped = 0; // server-side closes seen during a step
const unread = new Map(); // userId -> visitor messages the bench sent (the unread count we expect)
let unreadChecked = 0, unreadWrong = 0;
let seqNo = 0;
let lastFrameAt = 0; // any frame received: tells when the server has drained a backlog
let typingHeard = 0; // `typing` frames the admin socket got
let onList = null; // the answer to a `list` request (ours only)
const closeCodes = {}; // close code -> visitor sockets the server closed with it (4000: swept as silent)

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function delivered(key) {
  const t0 = pending.get(key);
  if (t0 === undefined) return;
  pending.delete(key);
  onDelivered?.(key, now() - t0);
}

function openVisitor() {
  return new Promise((resolve) => {
    const t0 = now();
    const localAddress = sources.length ? sources[opened++ % sources.length] : undefined;
    const ws = new WebSocket(`${wsBase}/desks/${desk}/visitor`, { handshakeTimeout: 30_000, perMessageDeflate: false, localAddress });
    const v = { ws, userId: null };
    ws.on('message', (data) => {
      lastFrameAt = now();
      const f = JSON.parse(data);
      if (f.type === 'welcome') {
        v.userId = f.userId;
        resolve({ ok: true, ms: now() - t0, v });
      } else if (f.type === 'message' && f.sender === 'admin') {
        delivered(f.message);
      } else if (f.type === 'error') stepErrors++;
    });
    ws.on('error', () => resolve({ ok: false, ms: now() - t0 }));
    ws.on('close', (code) => {
      if (!v.userId) return;
      stepDropped++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
  });
}

function openAdmin() {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const ws = new WebSocket(`${wsBase}/desks/${desk}/admin`, { headers: { Authorization: `Bearer ${adminToken}` }, perMessageDeflate: false });
    ws.on('message', (data) => {
      lastFrameAt = now();
      const f = JSON.parse(data);
      if (f.type === 'users') resolve({ ws, ms: now() - t0, rows: f.users.length });
      else if (f.type === 'message' && f.sender === 'user') delivered(f.message);
      else if (f.type === 'typing') typingHeard++;
      else if (f.type === 'list') onList?.(f);
      else if (f.type === 'user') {
        const expected = unread.get(f.user.userId);
        if (expected !== undefined && f.user.lastSender === 'user') {
          unreadChecked++;
          if (f.user.unread > expected) unreadWrong++; // rows may lag behind later sends, never lead
        }
      } else if (f.type === 'error') stepErrors++;
    });
    ws.on('error', reject);
    ws.on('close', () => stepDropped++);
  });
}

async function connect({ n, concurrency }) {
  const times = [];
  let failed = 0, next = 0;
  const t0 = now();
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await openVisitor();
      if (r.ok) { visitors.push(r.v); times.push(r.ms); } else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = now() - t0;
  return { n, concurrency, held: visitors.length, failed, connectMs: summary(times), wallMs: round(wallMs), perSecond: round((times.length / wallMs) * 1000, 1) };
}

/** Admin frame keys carry a run-unique id in the text itself: the visitor echo has no other field for it. */
function sendRouted() {
  const v = visitors[(Math.random() * visitors.length) | 0];
  const key = `r ${name} ${++seqNo}`;
  pending.set(key, now());
  admin.send(JSON.stringify({ type: 'message', message: key, targetUserId: v.userId, clientMsgId: `r-${seqNo}` }));
}

function sendInbound() {
  const v = visitors[(Math.random() * visitors.length) | 0];
  const key = `u ${name} ${++seqNo}`;
  unread.set(v.userId, (unread.get(v.userId) ?? 0) + 1);
  pending.set(key, now());
  v.ws.send(JSON.stringify({ type: 'message', message: key, clientMsgId: `u-${seqNo}` }));
}

/** One step: `rate` sends per second for `ms`, then up to `drainMs` for late deliveries. */
async function step(send, rate, ms, drainMs) {
  pending.clear();
  stepErrors = 0; stepDropped = 0;
  const lat = [];
  const worst = []; // the 5 slowest deliveries: latency and when (ms since the step began) they were sent
  let lastAt = 0;
  const t0 = now();
  onDelivered = (_k, l) => {
    lat.push(l); lastAt = now();
    if (worst.length < 5 || l > worst[worst.length - 1].ms) {
      worst.push({ ms: round(l), sentAtMs: round(lastAt - l - t0, 0) });
      worst.sort((a, b) => b.ms - a.ms).length = Math.min(worst.length, 5);
    }
  };
  let sent = 0;
  while (now() - t0 < ms) {
    const due = Math.floor(((now() - t0) / 1000) * rate);
    while (sent < due) { send(); sent++; }
    await sleep(1);
  }
  const sendEnd = now();
  while (pending.size && now() - sendEnd < drainMs) await sleep(5);
  onDelivered = null;
  const span = Math.max(lastAt, sendEnd) - t0;
  return {
    rate, seconds: ms / 1000, sent, delivered: lat.length, lost: pending.size, errors: stepErrors, dropped: stepDropped,
    deliveredPerSecond: round((lat.length / span) * 1000, 1), latencyMs: summary(lat), worst,
  };
}

/**
 * One ramp step for run.js (bench/ramp.js decides the rates): `kind` 'routed' (admin -> random
 * visitor) or 'inbound' (random visitor -> admin). Returns once the backlog has drained (bounded),
 * so the other implementation's next step gets a quiet machine.
 */
async function rampStep({ kind, rate, stepMs, drainMs, p99LimitMs, warmUp }) {
  if (!admin) admin = (await openAdmin()).ws;
  const send = kind === 'routed' ? sendRouted : sendInbound;
  if (warmUp) await step(send, 50, 500, 1000); // not reported
  const r = await step(send, rate, stepMs, drainMs);
  r.ok = r.errors === 0 && r.lost === 0 && r.dropped === 0 && r.latencyMs.p99 !== null &&
    r.latencyMs.p99 <= p99LimitMs && r.deliveredPerSecond >= 0.9 * rate;
  const t0 = now();
  while (now() - lastFrameAt < 500 && now() - t0 < 15_000) await sleep(50);
  if (kind === 'inbound') Object.assign(r, { unreadRowsChecked: unreadChecked, unreadRowsWrong: unreadWrong });
  return r;
}

/**
 * Closed loop: `inFlight` messages outstanding at all times for `ms` (each delivery sends the next),
 * so the rate is whatever the server sustains: capacity where it saturates, not where a ramp
 * step happens to break. `kind` as in rampStep. Deliveries after `ms` are waited for (bounded by
 * `drainMs`) and counted in `lost` if they never come; the rate counts deliveries within `ms`.
 */
async function closedLoop({ kind, inFlight, ms, drainMs }) {
  if (!admin) admin = (await openAdmin()).ws;
  const send = kind === 'routed' ? sendRouted : sendInbound;
  pending.clear();
  stepErrors = 0; stepDropped = 0;
  const lat = [];
  let sent = 0, open = true;
  onDelivered = (_k, l) => {
    lat.push(l);
    if (open) { send(); sent++; }
  };
  const t0 = now();
  for (let i = 0; i < inFlight; i++) { send(); sent++; }
  await sleep(ms);
  open = false;
  const window = now() - t0, inWindow = lat.length;
  const end = now();
  while (pending.size && now() - end < drainMs) await sleep(5);
  onDelivered = null;
  const t1 = now();
  while (now() - lastFrameAt < 500 && now() - t1 < 15_000) await sleep(50);
  return {
    kind, inFlight, seconds: round(window / 1000), sent, delivered: lat.length, lost: pending.size, errors: stepErrors,
    dropped: stepDropped, perSecond: round((inWindow / window) * 1000, 1), latencyMs: summary(lat),
  };
}

/** Waits until no frame has come for 500 ms (bounded): the server has drained what it owed. */
async function quiet() {
  const t0 = now();
  while (now() - lastFrameAt < 500 && now() - t0 < 15_000) await sleep(50);
}

/**
 * Typing (ours only; the peer has no such frame): every visitor sends `{"type":"typing"}` once per
 * `periodMs` for `ms`, the visitors spread evenly over the period. A visitor who never wrote has no
 * row in the inbox and its typing is not forwarded, so each writes one message first (not
 * measured). Returns frames sent and the `typing` frames the admin socket got (the desk forwards
 * at most one per visitor per 2 s: a send that comes a few ms early by timer jitter is dropped).
 */
async function typing({ ms, periodMs, prime }) {
  if (!admin) admin = (await openAdmin()).ws;
  if (prime) {
    for (const v of visitors) {
      if (unread.has(v.userId)) continue;
      unread.set(v.userId, 1);
      v.ws.send(JSON.stringify({ type: 'message', message: `hello from ${name}`, clientMsgId: `p-${++seqNo}` }));
      if (seqNo % 100 === 0) await sleep(20);
    }
    await quiet();
    return { primed: true };
  }
  typingHeard = 0; stepErrors = 0; stepDropped = 0;
  const frame = JSON.stringify({ type: 'typing' });
  const n = visitors.length, t0 = now();
  let sent = 0;
  while (now() - t0 < ms) {
    const due = Math.floor(((now() - t0) / periodMs) * n);
    while (sent < due) { visitors[sent % n].ws.send(frame); sent++; }
    await sleep(1);
  }
  await quiet();
  return { visitors: n, periodMs, seconds: ms / 1000, sent, forwarded: typingHeard, errors: stepErrors, dropped: stepDropped };
}

/** Admin (re)connects: time to the `users` frame (every conversation row + the online pass). */
async function users({ times = 5 }) {
  const ms = [];
  let rows = 0;
  for (let i = 0; i < times; i++) {
    const a = await openAdmin();
    ms.push(a.ms);
    rows = a.rows;
    a.ws.removeAllListeners('close');
    a.ws.close();
    await sleep(100);
  }
  return { rows, online: visitors.length, usersMs: summary(ms) };
}

/**
 * `list` requests (ours only: the peer has no such frame), one at a time on the admin socket: ms
 * from the request to its answer frame, and the rows and counts that page carried.
 */
async function list({ times = 5, view = 'all' }) {
  if (!admin) admin = (await openAdmin()).ws;
  const ms = [];
  let last = null;
  for (let i = 0; i < times; i++) {
    const t0 = now();
    const answer = new Promise((resolve) => { onList = resolve; });
    admin.send(JSON.stringify({ type: 'list', view }));
    last = await Promise.race([answer, sleep(30_000).then(() => null)]);
    onList = null;
    if (!last) break;
    ms.push(now() - t0);
    await sleep(100);
  }
  return { view, rows: last?.users.length ?? null, counts: last?.counts ?? null, online: visitors.length, listMs: summary(ms) };
}

/**
 * Gives every held visitor a conversation row (one message each, `rate` a second, not measured),
 * so the inbox's `users` and `list` answers have rows to mark online.
 */
async function prime({ rate = 500 }) {
  if (!admin) admin = (await openAdmin()).ws;
  const t0 = now();
  let sent = 0;
  for (const v of visitors) {
    if (unread.has(v.userId)) continue;
    while (sent >= ((now() - t0) / 1000) * rate) await sleep(5);
    unread.set(v.userId, 1);
    v.ws.send(JSON.stringify({ type: 'message', message: `hello from ${name}`, clientMsgId: `p-${++seqNo}` }));
    sent++;
  }
  await quiet();
  return { primed: sent, seconds: round((now() - t0) / 1000, 1) };
}

/** One visitor message after idling; ms until the admin has it. */
async function probe() {
  if (!admin) admin = (await openAdmin()).ws;
  const lat = [];
  onDelivered = (_k, l) => lat.push(l);
  sendInbound();
  const t0 = now();
  while (!lat.length && now() - t0 < 30_000) await sleep(1);
  onDelivered = null;
  return { ms: lat.length ? round(lat[0]) : null };
}

/** Keep-alive as real clients do (the desk closes sockets silent for 75 s): a ping per socket every 20 s. */
let pinger = null;
function keepAlive() {
  let i = 0;
  pinger = setInterval(() => {
    const all = admin ? [...visitors.map((v) => v.ws), admin] : visitors.map((v) => v.ws);
    const batch = Math.ceil(all.length / 20); // spread over 20 one-second ticks
    for (let k = 0; k < batch && all.length; k++, i++) {
      const ws = all[i % all.length];
      if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }
  }, 1000);
}

async function close() {
  clearInterval(pinger);
  for (const v of visitors) v.ws.terminate();
  admin?.terminate();
  return { closed: visitors.length };
}

const commands = { connect, rampStep, closedLoop, users, list, prime, typing, probe, close, open: () => ({ open: visitors.filter((v) => v.ws.readyState === WebSocket.OPEN).length, closeCodes }) };
keepAlive();
process.on('message', async ({ id, cmd, args }) => {
  try {
    process.send({ id, result: await commands[cmd](args ?? {}) });
  } catch (e) {
    process.send({ id, error: String(e?.stack ?? e) });
  }
  if (cmd === 'close') setTimeout(() => process.exit(0), 100);
});
