// The sidebar views (`list`): which conversation is in which view, the counts, paging by cursor
// (no row twice, even while rows move up), and refusals.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare } from '../helpers/desk.js';
import { act, admin, agentSocket, closeAll, listAll, listPage, newAgent, rowFor, say, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

const ids = (rowsOrPage) => (rowsOrPage.users ?? rowsOrPage).map((r) => r.userId);

/** `n` visitors who each wrote once, in order (the last is the newest); their sockets closed. */
async function conversations(name, n, label = 'v') {
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const v = await visitor(desk.url, name, { name: `${label}${i}` });
    await say(v, `message from ${label}${i}`);
    await v.close();
    out.push(v);
  }
  return out;
}

test('each view holds exactly its conversations; counts are per socket ("mine") and follow changes', async () => {
  const name = deskName('views');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const anaSock = await agentSocket(desk.url, name, ana);
  const [v0, v1, v2, v3, v4, v5] = await conversations(name, 6);
  await act(owner, { type: 'assign', userId: v2.userId, agentId: ana.agentId }, (r) => r.assigneeId === ana.agentId);
  await act(owner, { type: 'assign', userId: v3.userId, agentId: 'owner' }, (r) => r.assigneeId === 'owner');
  await act(owner, { type: 'snooze', userId: v4.userId, until: Date.now() + 3600_000 }, (r) => r.status === 'snoozed');
  await act(owner, { type: 'resolve', userId: v5.userId }, (r) => r.status === 'resolved');

  const set = (list) => new Set(ids(list));
  const expect = {
    open: [v0, v1, v2, v3], unassigned: [v0, v1], snoozed: [v4], resolved: [v5], all: [v0, v1, v2, v3, v4, v5],
  };
  for (const [view, want] of Object.entries(expect)) {
    for (const sock of [owner, anaSock]) {
      const page = await listPage(sock, view);
      assert.equal(page.type, 'list', `${view}: ${JSON.stringify(page)}`);
      assert.equal(page.view, view);
      assert.deepEqual(set(page), new Set(want.map((v) => v.userId)), `view ${view}`);
      assert.equal('cursor' in page, false, `${view}: one page, no cursor`);
    }
  }
  const def = await listPage(owner);
  assert.deepEqual(set(def), new Set(expect.open.map((v) => v.userId)), 'no view: open');
  assert.deepEqual(ids(await listPage(owner, 'mine')), [v3.userId], "the owner's own");
  assert.deepEqual(ids(await listPage(anaSock, 'mine')), [v2.userId], "Ana's own");
  assert.deepEqual(ids(await listPage(owner, 'unassigned')), [v1.userId, v0.userId], 'newest first');

  const ownerCounts = (await listPage(owner, 'all')).counts;
  // The owner (and admins) are also told how many visitors are blocked; agents are not.
  assert.deepEqual(ownerCounts, { open: 4, mine: 1, unassigned: 2, snoozed: 1, resolved: 1, blocked: 0 });
  assert.deepEqual((await listPage(anaSock, 'resolved')).counts, { open: 4, mine: 1, unassigned: 2, snoozed: 1, resolved: 1 });

  // Rows in a view carry the conversation fields.
  const snoozedRow = (await listPage(owner, 'snoozed')).users[0];
  assert.equal(snoozedRow.status, 'snoozed');
  assert.ok(snoozedRow.snoozedUntil > Date.now());
  const anaRow = (await listPage(anaSock, 'mine')).users[0];
  assert.deepEqual([anaRow.status, anaRow.assigneeId, anaRow.assigneeName], ['open', ana.agentId, 'Ana']);
  for (const k of ['name', 'unread', 'lastMessage', 'lastAt', 'online']) assert.ok(k in anaRow, `a list row has ${k}`);

  // Changes move conversations between views and counts.
  await act(anaSock, { type: 'resolve', userId: v0.userId }, (r) => r.status === 'resolved');
  const w = await visitor(desk.url, name, { token: v5.token });
  await say(w, 'back again'); // reopens v5
  await owner.next(rowFor(v5.userId, (r) => r.status === 'open'));
  assert.deepEqual((await listPage(owner, 'all')).counts, { open: 4, mine: 1, unassigned: 2, snoozed: 1, resolved: 1, blocked: 0 });
  assert.deepEqual(set(await listPage(owner, 'resolved')), new Set([v0.userId]));
  assert.deepEqual(ids(await listPage(owner, 'unassigned')), [v5.userId, v1.userId], 'the reopened one is open, unassigned, newest');
  await closeAll(owner, anaSock, w);
});

test('paging: limit, cursor absent on the last page, pages joined equal one big page', async () => {
  const name = deskName('paging');
  const owner = await admin(desk.url, name);
  const vs = await conversations(name, 7);
  const newestFirst = vs.map((v) => v.userId).reverse();
  const whole = await listPage(owner, 'all', { limit: 100 });
  assert.deepEqual(ids(whole), newestFirst, 'newest activity first');
  const paged = await listAll(owner, 'all', { limit: 3 });
  assert.deepEqual(paged.pages.map((p) => p.users.length), [3, 3, 1]);
  assert.ok(typeof paged.pages[0].cursor === 'string' || Number.isFinite(paged.pages[0].cursor), 'a cursor while more remain');
  assert.equal('cursor' in paged.pages[2], false, 'absent on the last page');
  assert.deepEqual(ids(paged.rows), newestFirst);
  const exact = await listAll(owner, 'open', { limit: 7 });
  assert.equal(exact.pages.length, 1, 'a page that holds the rest is the last page: no cursor');
  assert.deepEqual(ids(exact.rows), newestFirst);
  assert.equal((await listPage(owner, 'open', { limit: 1 })).users.length, 1);
  assert.equal((await listPage(owner, 'open')).users.length, 7, 'default limit (50) holds them all');
  const empty = await listPage(owner, 'snoozed');
  assert.deepEqual(empty.users, [], 'an empty view');
  assert.equal('cursor' in empty, false, 'an empty view has no cursor');
  await owner.close();
});

test('a page never repeats a row while rows move up; the row that moved is announced by its user frame', async () => {
  const name = deskName('moving');
  const owner = await admin(desk.url, name);
  const vs = await conversations(name, 10); // v9 newest … v0 oldest
  const u = (i) => vs[i].userId;
  const p1 = await listPage(owner, 'open', { limit: 3 });
  assert.deepEqual(ids(p1), [u(9), u(8), u(7)]);

  // v8 (already shown) and v2 (not yet shown) write again: both move to the top.
  for (const i of [8, 2]) {
    const again = await visitor(desk.url, name, { token: vs[i].token });
    await say(again, `again from v${i}`);
    await owner.next(rowFor(u(i), (r) => r.lastMessage === `again from v${i}`));
    await again.close();
  }
  const seen = [...ids(p1)];
  let { cursor } = p1;
  while (cursor !== undefined) {
    const page = await listPage(owner, 'open', { cursor, limit: 3 });
    assert.equal(page.type, 'list', JSON.stringify(page));
    seen.push(...ids(page));
    ({ cursor } = page);
  }
  assert.equal(new Set(seen).size, seen.length, `no row twice: ${seen}`);
  assert.deepEqual(seen, [u(9), u(8), u(7), u(6), u(5), u(4), u(3), u(1), u(0)], 'the rest in order; v2 came by its user frame');
  assert.deepEqual(ids(await listPage(owner, 'open', { limit: 3 })), [u(2), u(8), u(9)], 'a fresh first page has the movers on top');
  await owner.close();
});

test('list refusals: an unknown view is bad_frame; a bad limit or cursor is never an internal error', async () => {
  const name = deskName('listbad');
  const owner = await admin(desk.url, name);
  await conversations(name, 2);
  for (const view of ['archived', 'OPEN', 5, ['open'], '']) {
    const got = await listPage(owner, view);
    assert.equal(got.type, 'error', `view ${JSON.stringify(view)}: ${JSON.stringify(got).slice(0, 200)}`);
    assert.equal(got.code, 'bad_frame', `view ${JSON.stringify(view)}`);
  }
  for (const limit of [0, 101, -1, 2.5, 'ten']) {
    const got = await listPage(owner, 'open', { limit });
    if (got.type === 'list') assert.ok(got.users.length <= 100, `limit ${limit}`);
    else assert.equal(got.code, 'bad_frame', `limit ${limit}: ${JSON.stringify(got)}`);
  }
  for (const cursor of ['garbage', -1, { x: 1 }, 'ZZZZ'.repeat(100)]) {
    const got = await listPage(owner, 'open', { cursor });
    assert.ok(got.type === 'list' || got.code === 'bad_frame', `cursor ${JSON.stringify(cursor).slice(0, 30)}: ${JSON.stringify(got)}`);
  }
  assert.equal((await listPage(owner, 'open')).users.length, 2, 'still serving');
  await owner.close();
});
