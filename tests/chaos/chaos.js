// The chaos run: many visitors and two admins chat on one desk while the test SIGKILLs the
// runtime and restarts it on the same storage, and cuts client sockets at random. At the end
// it reads the desk back and proves: every acked message stored exactly once, in seq order;
// every client got what it was owed exactly once; unread counts match the stored messages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, connectAdmin, startWranglerDev } from '../helpers/desk.js';
import { ResilientClient } from './client.js';

export const PROFILES = {
  // In `make test`: every mechanism exercised, about a minute on two cores.
  short: { visitors: 200, admins: 2, seconds: 24, restarts: 2, dropsPerSecond: 5, visitorMsgsPerSecond: 12, repliesPerSecond: 8, retryShare: 0.1 },
  // `make chaos`: longer, more restarts and drops.
  // One admin is away for 25 s mid-run: more than 500 messages pass, so its resume is refused and
  // it must read the gap back from a fresh snapshot (the `resets` figure).
  long: { visitors: 300, admins: 2, seconds: 150, restarts: 6, dropsPerSecond: 10, visitorMsgsPerSecond: 20, repliesPerSecond: 15, retryShare: 0.1, adminAwaySeconds: 25 },
};

const DESK = 'chaos';
// Hundreds of visitors from one address (this machine): the per-address limit on new visitors
// would stop them; every other limit stays at its default.
const CHAOS_VARS = { NEW_VISITORS_PER_IP: '0' };

/** Resolves when `check()` is true; re-checked whenever a client changes and at most every 100 ms. */
function until(check, what, timeoutMs, waiters) {
  return new Promise((resolve, reject) => {
    const done = () => { clearInterval(poll); clearTimeout(timer); waiters.delete(test); resolve(); };
    const test = () => { if (check()) done(); };
    const poll = setInterval(test, 100);
    const timer = setTimeout(() => {
      clearInterval(poll);
      waiters.delete(test);
      reject(new Error(`timed out: ${typeof what === 'function' ? what() : what}`));
    }, timeoutMs);
    waiters.add(test);
    test();
  });
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

export async function runChaos(profile, log = console.log) {
  const dir = mkdtempSync(join(tmpdir(), 'desk-chaos-'));
  const waiters = new Set();
  const onChange = () => { for (const w of [...waiters]) w(); };
  let desk = await startWranglerDev({ persistDir: dir, vars: CHAOS_VARS });
  const { url } = desk;
  const figures = { restarts: 0, drops: 0, readBackLimited: 0 };
  const make = (role) => new ResilientClient({ url, desk: DESK, role, adminToken: ADMIN_TOKEN, onChange });
  const admins = Array.from({ length: profile.admins }, () => make('admin'));
  const visitors = Array.from({ length: profile.visitors }, () => make('visitor'));
  const everyone = [...admins, ...visitors];
  try {
    admins.forEach((a) => a.connect());
    await until(() => admins.every((a) => a.open), 'admins connected', 20_000, waiters);
    visitors.forEach((v) => v.connect());
    await until(() => visitors.every((v) => v.open), 'visitors connected', 60_000, waiters);
    log(`chaos: ${profile.visitors} visitors and ${profile.admins} admins connected to ${url}`);

    // Load, not synchronisation: traffic, drops and restarts are spread over the run.
    const tickMs = 100;
    const ticks = Math.round((profile.seconds * 1000) / tickMs);
    const restartAt = new Set(Array.from({ length: profile.restarts }, (_, i) => Math.round(((i + 1) * ticks) / (profile.restarts + 1))));
    // How many events of a rate fall in one tick: the whole part, plus one with the fraction's odds.
    const perTick = (perSecond) => {
      const x = (perSecond * tickMs) / 1000;
      return Math.floor(x) + (Math.random() < x % 1 ? 1 : 0);
    };
    let n = 0;
    for (let tick = 0; tick < ticks; tick += 1) {
      const retryAtOnce = () => ({ retryAtOnce: Math.random() < profile.retryShare });
      for (let k = perTick(profile.visitorMsgsPerSecond); k > 0; k -= 1) pick(visitors).send(`visitor says ${(n += 1)}`, undefined, retryAtOnce());
      const known = visitors.filter((v) => v.userId);
      for (let k = perTick(profile.repliesPerSecond); k > 0; k -= 1) pick(admins).send(`admin says ${(n += 1)}`, pick(known).userId, retryAtOnce());
      for (let k = perTick(profile.dropsPerSecond); k > 0; k -= 1) {
        pick(everyone).drop();
        figures.drops += 1;
      }
      if (profile.adminAwaySeconds && tick === Math.round(ticks / 3)) admins[admins.length - 1].hold(profile.adminAwaySeconds * 1000);
      if (restartAt.has(tick)) {
        await desk.kill(); // SIGKILL: no graceful shutdown, no flush beyond what was committed
        figures.restarts += 1;
        desk = await startWranglerDev({ persistDir: dir, port: Number(new URL(url).port), vars: CHAOS_VARS });
        log(`chaos: runtime killed and restarted (${figures.restarts}/${profile.restarts})`);
      }
      await new Promise((r) => setTimeout(r, tickMs));
    }

    // Settle: everyone back, every send acked, every delivery owed has arrived.
    // A desk on a busy machine may still be working through the backlog: wait while acks come in
    // (each one is progress), and fail only when nothing moves for 60 s, saying who is stuck.
    const stuck = () => everyone.filter((c) => !c.open || c.outbox.size > 0 || c.catchingUp());
    const settled = () => stuck().length === 0;
    const pending = () => stuck().reduce((s, c) => s + c.outbox.size + c.gaps.length + (c.gapAsked ? 1 : 0), 0);
    for (let left = pending() + 1; !settled();) {
      await until(() => settled() || pending() < left, () => {
        const st = stuck();
        return `all reconnected, acked and caught up: ${st.filter((c) => !c.open).length} clients not connected, ` +
          `${st.filter((c) => c.catchingUp()).length} reading a gap back, ` +
          `${st.reduce((s, c) => s + c.outbox.size, 0)} sends unacked (${st.filter((c) => c.outbox.size).length} clients); ` +
          `errors ${everyone.reduce((s, c) => s + c.errors, 0)}, rate_limited ${everyone.reduce((s, c) => s + c.rateLimited, 0)}; ` +
          `last refusals ${JSON.stringify(st.map((c) => c.lastError).filter(Boolean).slice(0, 3))}`;
      }, 60_000, waiters);
      left = pending();
    }
    const history = await readBack(url, figures);
    const owed = owedDeliveries(history, visitors, admins);
    await until(() => owed.every(({ client, ids }) => ids.every((id) => client.deliveries.has(id))), 'all deliveries arrived', 30_000, waiters)
      .catch(() => {}); // missing deliveries are counted as lost below, with figures
    return { ...figures, ...verify(history, everyone, owed) };
  } finally {
    everyone.forEach((c) => c.stop());
    await desk.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The documented admin socket limit (docs/protocol.md, Limits): the read-back paces itself to it,
// as a well-behaved client does, and still waits out any `rate_limited` answer.
const ADMIN_RATE = { perSec: 50, burst: 200 };
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Requests on one admin socket the way the inbox makes them: paced by a token bucket of the
 * documented shape, one at a time, and a `rate_limited` answer waited out (`retryAfterMs`) before
 * the same frame goes again. Returns ask(frame, want) -> the answer matching `want`.
 */
function pacedRequests(admin, figures) {
  let tokens = ADMIN_RATE.burst, at = Date.now();
  return async function ask(frame, want) {
    for (;;) {
      const now = Date.now();
      tokens = Math.min(ADMIN_RATE.burst, tokens + ((now - at) * ADMIN_RATE.perSec) / 1000);
      at = now;
      if (tokens < 1) {
        await wait(Math.ceil(((1 - tokens) * 1000) / ADMIN_RATE.perSec));
        continue;
      }
      tokens -= 1;
      admin.send(frame);
      const answer = await admin.next((f) => want(f) || (f.type === 'error' && f.code === 'rate_limited'), { timeout: 10_000 });
      if (answer.type !== 'error') return answer;
      figures.readBackLimited += 1;
      await wait(Number(answer.retryAfterMs) || 1000);
    }
  };
}

/** Every conversation of the desk, read back through a fresh admin socket. */
async function readBack(url, figures) {
  const admin = await connectAdmin(url, DESK);
  try {
    const { users } = await admin.next('users', { timeout: 10_000 });
    const ask = pacedRequests(admin, figures);
    const conversations = new Map();
    for (const row of users) {
      const messages = [];
      let before;
      for (;;) {
        const page = await ask({ type: 'history', userId: row.userId, limit: 200, ...(before ? { before } : {}) },
          (f) => f.type === 'history' && f.userId === row.userId);
        messages.unshift(...page.messages);
        if (!page.hasMore || page.messages.length === 0) break;
        before = page.messages[0].seq;
      }
      conversations.set(row.userId, { row, messages });
    }
    return conversations;
  } finally {
    await admin.close();
  }
}

/** Who is owed which message: a visitor every admin reply to it; an admin every message since it
 *  first connected, except its own replies (those it gets as acks). */
function owedDeliveries(history, visitors, admins) {
  const all = [...history.values()].flatMap((c) => c.messages);
  const owed = visitors.map((client) => ({
    client,
    ids: (history.get(client.userId)?.messages ?? []).filter((m) => m.sender === 'admin').map((m) => m.id),
  }));
  for (const client of admins) {
    const own = new Set([...client.acked.values()].map((a) => a.id));
    owed.push({ client, ids: all.filter((m) => m.seq > client.firstSeq && !own.has(m.id)).map((m) => m.id) });
  }
  return owed;
}

function verify(history, everyone, owed) {
  const stored = new Map(); // id -> message
  const byClientId = new Map(); // clientMsgId -> times stored
  const problems = [];
  let seqs = [];
  for (const [userId, { row, messages }] of history) {
    for (let i = 1; i < messages.length; i += 1) {
      if (messages[i].seq <= messages[i - 1].seq) problems.push(`history of ${userId} out of seq order`);
    }
    for (const m of messages) {
      stored.set(m.id, m);
      seqs.push(m.seq);
      if (m.clientMsgId) byClientId.set(m.clientMsgId, (byClientId.get(m.clientMsgId) ?? 0) + 1);
    }
    const unread = messages.filter((m) => m.sender === 'user').length;
    if (row.unread !== unread) problems.push(`unread of ${userId} is ${row.unread}, stored visitor messages ${unread}`);
  }
  if (new Set(seqs).size !== seqs.length) problems.push('a seq is used twice');
  const storedTwice = [...byClientId.values()].filter((n) => n > 1).length;
  let acked = 0, lostAcked = 0, mismatched = 0;
  for (const c of everyone) {
    for (const [clientMsgId, { id, seq }] of c.acked) {
      acked += 1;
      const m = stored.get(id);
      if (!m) lostAcked += 1;
      else if (m.seq !== seq || m.clientMsgId !== clientMsgId) mismatched += 1;
    }
  }
  let delivered = 0, duplicateDeliveries = 0, missingDeliveries = 0, outOfOrder = 0;
  for (const { client, ids } of owed) {
    for (const id of ids) {
      const times = client.deliveries.get(id) ?? 0;
      delivered += Math.min(times, 1);
      if (times === 0) missingDeliveries += 1;
      if (times > 1) duplicateDeliveries += times - 1;
    }
    outOfOrder += client.outOfOrder;
  }
  const sent = everyone.reduce((s, c) => s + c.sent, 0);
  const unacked = everyone.reduce((s, c) => s + c.outbox.size, 0);
  return {
    sent, acked, unacked, stored: stored.size, delivered,
    duplicates: storedTwice + duplicateDeliveries, lost: lostAcked + missingDeliveries,
    lostAcked, missingDeliveries, storedTwice, duplicateDeliveries, mismatched, outOfOrder,
    resets: everyone.reduce((s, c) => s + c.resets, 0),
    caughtUp: everyone.reduce((s, c) => s + c.caughtUp, 0),
    retried: everyone.reduce((s, c) => s + c.retried, 0),
    reconnects: everyone.reduce((s, c) => s + c.connects - 1, 0),
    errors: everyone.reduce((s, c) => s + c.errors, 0),
    rateLimited: everyone.reduce((s, c) => s + c.rateLimited, 0),
    problems,
  };
}
