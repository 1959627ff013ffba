// 600 conversations: every one reachable through `list` paging (no duplicate, no gap, newest first,
// counts right), while `users` keeps its pinned cap of 500 rows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare } from '../helpers/desk.js';
import { act, admin, closeAll, listAll, listPage, say, visitor } from './flows.js';

const N = 600;
const BATCH = 40;

let desk;
const w = {};
before(async () => {
  desk = await startMiniflare({ bindings: { ...BULK_LIMITS, NEW_VISITORS_PER_IP: '100000' } });
  w.name = deskName('scale');
  const made = [];
  for (let start = 0; start < N; start += BATCH) {
    // A batch of sockets at a time, each writes once, then the batch closes.
    const batch = await Promise.all(Array.from({ length: Math.min(BATCH, N - start) }, (_, k) =>
      visitor(desk.url, w.name, { name: `Customer ${start + k}` })));
    const acks = await Promise.all(batch.map((v, k) => say(v, `question number ${start + k}`)));
    batch.forEach((v, k) => made.push({ userId: v.userId, token: v.token, seq: acks[k].seq }));
    await closeAll(...batch);
  }
  // Newest activity first: by the seq of each conversation's (only) message.
  made.sort((a, b) => b.seq - a.seq);
  w.newestFirst = made.map((m) => m.userId);
  w.tokens = new Map(made.map((m) => [m.userId, m.token]));
  w.owner = await admin(desk.url, w.name);
});
after(async () => {
  await w.owner?.close();
  await desk?.dispose();
});

test('600 conversations: all reachable by paging, no duplicate, no gap, newest first, counts right', async () => {
  assert.equal(new Set(w.newestFirst).size, N, '600 distinct visitors');
  for (const limit of [100, undefined, 7]) {
    const { rows, pages, counts } = await listAll(w.owner, 'open', { limit });
    const got = rows.map((r) => r.userId);
    assert.equal(new Set(got).size, got.length, `limit ${limit}: no duplicate`);
    assert.equal(got.length, N, `limit ${limit}: no gap (${got.length} rows over ${pages.length} pages)`);
    assert.deepEqual(got, w.newestFirst, `limit ${limit}: newest first`);
    assert.equal(pages.length, Math.ceil(N / (limit ?? 50)), `limit ${limit}: full pages, cursor absent on the last`);
    for (const p of pages.slice(0, -1)) assert.ok('cursor' in p);
    assert.deepEqual(counts, { open: N, mine: 0, unassigned: N, snoozed: 0, resolved: 0, blocked: 0 });
    for (const r of rows) assert.equal(r.status, 'open');
  }
  const all = await listAll(w.owner, 'all', { limit: 100 });
  assert.deepEqual(all.rows.map((r) => r.userId), w.newestFirst, 'the "all" view too');
  const unassigned = await listAll(w.owner, 'unassigned', { limit: 100 });
  assert.equal(unassigned.rows.length, N);
});

test('users still answers with its pinned cap: the newest 500 rows', async () => {
  const a = await admin(desk.url, w.name);
  assert.equal(a.users.length, 500, 'at most 500 rows');
  assert.deepEqual(a.users.map((r) => r.userId), w.newestFirst.slice(0, 500), 'the newest 500, newest first');
  assert.deepEqual(a.snapshot.me, { agentId: 'owner', name: 'Owner', role: 'owner' });
  await a.close();
});

test('the oldest conversation, beyond users\' 500, is still resolvable and moves between views', async () => {
  const oldest = w.newestFirst.at(-1);
  const row = await act(w.owner, { type: 'resolve', userId: oldest }, (r) => r.status === 'resolved');
  assert.equal(row.type, 'user', JSON.stringify(row));
  const resolved = await listPage(w.owner, 'resolved');
  assert.deepEqual(resolved.users.map((r) => r.userId), [oldest]);
  assert.deepEqual(resolved.counts, { open: N - 1, mine: 0, unassigned: N - 1, snoozed: 0, resolved: 1, blocked: 0 });
  const open = await listAll(w.owner, 'open', { limit: 100 });
  assert.deepEqual(open.rows.map((r) => r.userId), w.newestFirst.slice(0, -1));
  // A visitor far down the list writes: its conversation is first on the first page.
  const low = w.newestFirst.at(-2);
  const back = await visitor(desk.url, w.name, { token: w.tokens.get(low) });
  await say(back, 'back on top');
  const first = await listPage(w.owner, 'open', { limit: 5 });
  assert.deepEqual(first.users.map((r) => r.userId), [low, ...w.newestFirst.slice(0, 4)]);
  assert.equal(first.users[0].lastMessage, 'back on top');
  await back.close();
});
