// The admin's `users` frame reads its rows and their contexts from SQLite as JSON texts
// (src/store/row.rs, `packed`), a few rows per text: SQLite refuses a text over 2 MB, and visitors
// choose what their contexts say. 100 visitors whose contexts are at every limit, each character
// one that JSON escapes (over 2 MB as one text), must not break the frame: it comes, cut to the
// frame budget with `hasMore`, newest first, every context intact; `list` pages too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, IDENTITY_SECRET, deskName, startMiniflare, userHash } from '../helpers/desk.js';
import { admin, closeAll, listAll, say, visitor } from './flows.js';

const N = 100;
const BATCH = 25;
const url = (k) => `https://shop.example/${k}/${'"'.repeat(2048 - 30)}`;
const referrer = `https://news.example/${'\\'.repeat(2048 - 30)}`;
const title = '"'.repeat(300);
const attributes = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key${i}`, '\\"'.repeat(50)]));

let desk;
before(async () => {
  desk = await startMiniflare({ bindings: { ...BULK_LIMITS, NEW_VISITORS_PER_IP: '100000', IDENTITY_SECRET } });
});
after(async () => { await desk?.dispose(); });

test('contexts at every limit, all escaped characters, on 100 rows: users and list still answer, contexts intact', { timeout: 120_000 }, async () => {
  const name = deskName('big-contexts');
  const watcher = await admin(desk.url, name);
  const newestFirst = [];
  for (let start = 0; start < N; start += BATCH) {
    // Verified visitors: only they may pass attributes.
    const identity = (k) => ({ userId: `customer-${k}`, userHash: userHash(name, `customer-${k}`) });
    const batch = await Promise.all(Array.from({ length: BATCH }, (_, k) => visitor(desk.url, name, { identity: identity(start + k) })));
    for (const [k, v] of batch.entries()) {
      await say(v, `question ${start + k}`);
      v.send({ type: 'context', url: url(start + k), title, referrer, attributes });
      await watcher.next((f) => f.type === 'context' && f.userId === v.userId);
      newestFirst.unshift({ userId: v.userId, url: url(start + k) });
    }
    await closeAll(...batch);
  }
  await watcher.close();

  const a = await admin(desk.url, name);
  assert.ok(a.users.length > 0 && a.users.length < N, `cut to the frame budget: ${a.users.length} rows`);
  assert.equal(a.snapshot.hasMore, true);
  assert.deepEqual(a.users.map((r) => r.userId), newestFirst.slice(0, a.users.length).map((r) => r.userId), 'newest first');
  for (const [i, row] of a.users.entries()) {
    assert.deepEqual([row.context.url, row.context.title, row.context.referrer, row.context.attributes],
      [newestFirst[i].url, title, referrer, attributes], `row ${i}: its context, intact`);
  }
  const { rows } = await listAll(a, 'all');
  assert.deepEqual(rows.map((r) => r.userId), newestFirst.map((r) => r.userId), 'every row through list, newest first');
  assert.ok(rows.every((r, i) => r.context.url === newestFirst[i].url));
  await a.close();
});
