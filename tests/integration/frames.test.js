// Bounded answers, in workerd: no frame over the budget for a conversation of 300 worst-case
// 4,000-character messages (welcome, history, resumes, users, list, search), paging by bytes
// reaches every message exactly once, and a history flood from one visitor's ten sockets pays for
// what it pulls and leaves another visitor's acks fast.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, connectAdmin, connectVisitor, deskName, startMiniflare } from '../helpers/desk.js';
import { BIG_ASKS, MAX_SEND_BYTES, heavy } from '../hostile/answers.js';
import { admin, cid, closeAll, say, visitor, where } from './flows.js';

let bulk;
/** The heavy desk: its name, the visitor V of the heavy conversation, the admin, seqs. */
const w = {};

/** Every frame a client received is within the budget. */
function assertWithinBudget(client) {
  const over = client.sizes.map((n, i) => [n, client.frames[i]?.type]).filter(([n]) => n > MAX_SEND_BYTES);
  assert.deepEqual(over, [], `${client.label}: frames over ${MAX_SEND_BYTES} bytes`);
}

/** Admin `a` writes `n` heavy replies to `userId`, one after the other, waiting out `rate_limited`
 *  as the protocol says; resolves with their acks. */
async function heavyReplies(a, userId, n) {
  const acks = [];
  for (let i = 0; i < n; i += 1) {
    const clientMsgId = cid('heavy');
    for (;;) {
      a.send({ type: 'message', message: heavy(i), targetUserId: userId, clientMsgId });
      const got = await a.next(where(`ack or error for ${clientMsgId}`, (f) => f.clientMsgId === clientMsgId && ['ack', 'error'].includes(f.type)));
      if (got.type === 'ack') { acks.push(got); break; }
      assert.equal(got.code, 'rate_limited', JSON.stringify(got));
      await new Promise((resolve) => setTimeout(resolve, got.retryAfterMs)); // the protocol's own wait
    }
  }
  return acks;
}

/** Pages a conversation back from the newest with `before`, as clients do; returns the pages. */
async function pageBack(client, userId) {
  const pages = [];
  let beforeSeq;
  for (;;) {
    client.send({ type: 'history', ...(userId ? { userId } : {}), limit: 200, ...(beforeSeq ? { before: beforeSeq } : {}) });
    const page = await client.next('history');
    pages.push(page);
    if (!page.hasMore) return pages;
    assert.ok(page.messages.length > 0, 'a page that says hasMore moves on');
    beforeSeq = page.messages[0].seq;
    assert.ok(pages.length < 1000, 'paging ends');
  }
}

/** Every seq of the pages, oldest first; asserts they join with no overlap and no disorder. */
function seqsOf(pages) {
  const seqs = pages.slice().reverse().flatMap((p) => p.messages.map((m) => m.seq));
  assert.ok(seqs.every((s, i) => i === 0 || seqs[i - 1] < s), 'pages join oldest first, no message twice');
  return seqs;
}

before(async () => {
  bulk = await startMiniflare({ bindings: BULK_LIMITS });
  w.desk = deskName('heavy');
  w.admin = await admin(bulk.url, w.desk);
  w.V = await visitor(bulk.url, w.desk);
  w.hello = await say(w.V, 'hello, a long story follows');
  w.acks = await heavyReplies(w.admin, w.V.userId, 300);
  w.publicSeqs = [w.hello.seq, ...w.acks.map((a) => a.seq)];
  w.since = w.acks.at(-6).seq; // five messages missed
  w.epoch = w.V.welcome.epoch;
});
after(async () => {
  await closeAll(w.admin, w.V);
  await bulk?.dispose();
});

test('history paged by bytes: every frame within the budget, every message exactly once', async () => {
  const v = await visitor(bulk.url, w.desk, { token: w.V.token });
  const pages = await pageBack(v, undefined);
  assert.ok(pages.length >= 8, `300 heavy messages take many pages, got ${pages.length}`);
  assert.deepEqual(seqsOf(pages), w.publicSeqs, 'the visitor reads each of its messages once');
  assertWithinBudget(v);

  const a = await admin(bulk.url, w.desk);
  const agentSeqs = seqsOf(await pageBack(a, w.V.userId));
  assert.deepEqual(agentSeqs.filter((s) => w.publicSeqs.includes(s)), w.publicSeqs);
  assert.equal(agentSeqs.length, w.publicSeqs.length + 1, 'and the event of the first reply (assigned)');
  assertWithinBudget(a);
  await closeAll(v, a);
});

test('welcome and resumes stay within the budget; a replay that does not fit is a fresh snapshot', async () => {
  // Fresh: the newest messages that fit, hasMore.
  const fresh = await visitor(bulk.url, w.desk, { token: w.V.token });
  assert.equal(fresh.welcome.resumed, false);
  assert.equal(fresh.welcome.hasMore, true);
  assert.equal(fresh.welcome.messages.at(-1).seq, w.publicSeqs.at(-1), 'the newest are kept');
  assert.ok(fresh.welcome.messages.length < 200, `cut by bytes: ${fresh.welcome.messages.length}`);
  // Resume from since=0: 301 messages (about 3 MB) do not fit: resumed false, replace the view.
  const zero = await visitor(bulk.url, w.desk, { token: w.V.token, since: 0, epoch: w.epoch });
  assert.equal(zero.welcome.resumed, false);
  assert.deepEqual(zero.welcome.messages.map((m) => m.seq), fresh.welcome.messages.map((m) => m.seq));
  // Resume from near the end: exactly what was missed.
  const near = await visitor(bulk.url, w.desk, { token: w.V.token, since: w.since, epoch: w.epoch });
  assert.equal(near.welcome.resumed, true);
  assert.deepEqual(near.welcome.messages.map((m) => m.seq), w.publicSeqs.slice(-5));

  // An admin resuming from 0 gets a fresh sidebar and no replay; from near the end, the replay.
  const a0 = await connectAdmin(bulk.url, w.desk, { since: 0, epoch: w.epoch });
  assert.equal((await a0.next('users')).resumed, false);
  await a0.expectNone('message', 300); // absence cannot be awaited: a short look
  const aNear = await connectAdmin(bulk.url, w.desk, { since: w.since, epoch: w.epoch });
  assert.equal((await aNear.next('users')).resumed, true);
  for (const seq of w.publicSeqs.slice(-5)) assert.equal((await aNear.next('message')).seq, seq);
  for (const c of [fresh, zero, near, a0, aNear]) assertWithinBudget(c);
  await closeAll(fresh, zero, near, a0, aNear);
});

test('every big ask of the hostile corpus is answered within the budget', async (t) => {
  const ctx = { V: w.V, since: w.since };
  const sockets = { visitor: await visitor(bulk.url, w.desk, { token: w.V.token }), admin: await admin(bulk.url, w.desk) };
  for (const entry of BIG_ASKS) {
    await t.test(entry.name, async () => {
      let client = sockets[entry.as];
      if (entry.connect) {
        const asked = entry.query(ctx);
        const query = 'since' in asked ? { ...asked, epoch: w.epoch } : asked;
        client = entry.connect === 'admin'
          ? await connectAdmin(bulk.url, w.desk, query)
          : await connectVisitor(bulk.url, w.desk, { token: w.V.token, ...query });
        await client.next(entry.first);
      } else {
        client.send(typeof entry.ask === 'function' ? entry.ask(ctx) : entry.ask);
        await client.next(entry.answer);
      }
      assertWithinBudget(client);
      if (entry.connect) await client.close();
    });
  }
  await closeAll(sockets.visitor, sockets.admin);
});

test('search and list answers are cut by bytes and say so', async () => {
  const name = deskName('search-heavy');
  const a = await admin(bulk.url, name);
  // 40 conversations, each one word of 4,000 letters (a snippet holds whole words): ~8 KB a
  // result, 40 of them over the budget.
  const vs = [];
  for (let i = 0; i < 40; i += 1) {
    const v = await visitor(bulk.url, name);
    await say(v, 'ж'.repeat(4000));
    vs.push(v);
  }
  a.send({ type: 'search', query: 'жж', limit: 50 });
  const found = await a.next('search');
  assert.ok(found.results.length > 0 && found.results.length < 40, `cut by bytes: ${found.results.length}`);
  assert.equal(found.hasMore, true);
  const listed = new Set();
  let cursor;
  do {
    a.send({ type: 'list', view: 'all', limit: 100, ...(cursor ? { cursor } : {}) });
    const page = await a.next('list');
    for (const r of page.users) {
      assert.ok(!listed.has(r.userId), 'no row twice');
      listed.add(r.userId);
    }
    cursor = page.cursor;
  } while (cursor);
  assert.equal(listed.size, 40, 'list pages reach every conversation');
  assertWithinBudget(a);
  await closeAll(a, ...vs);
});

/** The p-th percentile of `xs` (nearest rank). */
const percentile = (xs, p) => xs.slice().sort((x, y) => x - y)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

test('a history flood from ten sockets of one visitor pays for what it pulls; others keep acks p50 < 100 ms', async (t) => {
  // Sixteen other visitors, each writing at its allowed rate: ~190 acks timed without the flood,
  // ~480 under it.
  // Default limits: visitors 2 frames/s, bursts of 20, ten sockets each.
  const desk = await startMiniflare();
  const name = deskName('flood');
  const clients = [];
  try {
    const a = await admin(desk.url, name);
    const f = await visitor(desk.url, name);
    await say(f, 'hello');
    await heavyReplies(a, f.userId, 300);
    const flooders = [f];
    for (let i = 1; i < 10; i += 1) flooders.push(await visitor(desk.url, name, { token: f.token }));
    const others = [];
    for (let i = 0; i < 16; i += 1) others.push(await visitor(desk.url, name));
    clients.push(a, ...flooders, ...others);
    for (const c of flooders) c.drain();

    // Each other visitor writes at its own allowed rate (2/s) for `ms` and times send -> ack.
    const timeAcks = async (ms) => {
      const latencies = [];
      const started = Date.now();
      await Promise.all(others.map(async (v) => {
        while (Date.now() - started < ms) {
          const t0 = performance.now();
          await say(v, `still here ${cid()}`);
          latencies.push(performance.now() - t0);
          const next = t0 + 500 - performance.now();
          if (next > 0) await new Promise((resolve) => setTimeout(resolve, next)); // pacing, not waiting on the desk
        }
      }));
      return latencies;
    };
    const show = (xs) => `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms over ${xs.length} acks`;
    // First without the flood: what this machine measures at all (it is shared; under heavy load
    // acks are slow whatever the desk does, and the claim cannot be measured).
    const quiet = await timeAcks(6_000);

    // The flood: every one of the ten sockets asks for the largest page at the allowed frame rate.
    const started = Date.now();
    const flood = setInterval(() => { for (const c of flooders) c.send({ type: 'history', limit: 200 }); }, 500);
    const latencies = await timeAcks(15_000);
    clearInterval(flood);
    const elapsed = (Date.now() - started) / 1000;

    let pulled = 0;
    let limited = 0;
    for (const c of flooders) {
      c.frames.forEach((fr, i) => {
        if (fr.type === 'history') pulled += c.sizes[i];
        if (fr.type === 'error' && fr.code === 'rate_limited') limited += 1;
      });
      assertWithinBudget(c);
    }
    // What the visitor's one answer account can pay for, whatever its ten sockets: its burst, its
    // refill, and one page of debt. 8 KB a token.
    const bound = (20 + 2 * (elapsed + 1) + 32) * 8 * 1024;
    assert.ok(pulled <= bound, `pulled ${pulled} bytes, bound ${bound}`);
    assert.ok(limited > 0, 'big pages are paid for: the flooders were told to wait');
    assert.ok(latencies.length >= 300, `measured ${latencies.length} acks`);
    const report = `without the flood ${show(quiet)}; under a flood of ${pulled} bytes ${show(latencies)}`;
    t.diagnostic(report);
    // The wall clock is the machine's as much as the desk's: what always holds is the bytes bound
    // above (without it the flood pulled ~60 MB/s). The median is asserted (an unbounded flood
    // moved it from 3 to 250 ms; one loaded moment cannot); the p99, which one busy second on a
    // shared machine moves past 100 ms (seen: 179 ms at load 11), only with FLOOD_STRICT_WALL=1.
    if (percentile(quiet, 50) >= 50) {
      t.skip(`this machine is too loaded to measure acks at all (${report})`);
      return;
    }
    assert.ok(percentile(latencies, 50) < 100, report);
    if (process.env.FLOOD_STRICT_WALL === '1') assert.ok(percentile(latencies, 99) < 100, report);
  } finally {
    await closeAll(...clients);
    await desk.dispose();
  }
});
