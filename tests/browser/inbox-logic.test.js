// The inbox's pure rules, run in Node without a browser: snooze times in local time, which view a row belongs to, the sidebar's order, live rows batched per frame, day labels, who may revoke whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snoozeUntil } from '../../admin/actions.js';
import { belongs, before } from '../../admin/views.js';
import { dayLabel, isOwn } from '../../admin/render.js';
import { mayRevoke } from '../../admin/team.js';
import { createRowBatch } from '../../admin/batch.js';

const local = (y, m, d, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();

test('snooze choices: an hour from now, tomorrow 09:00, next Monday 09:00 (a Monday goes to the one after)', () => {
  const wed = new Date(local(2026, 12, 2, 15, 30)); // a Wednesday
  assert.equal(snoozeUntil('hour', wed), wed.getTime() + 3_600_000);
  assert.equal(snoozeUntil('tomorrow', wed), local(2026, 12, 3, 9));
  assert.equal(snoozeUntil('monday', wed), local(2026, 12, 7, 9));
  assert.equal(snoozeUntil('monday', new Date(local(2026, 12, 6, 23))), local(2026, 12, 7, 9), 'Sunday night: the next morning');
  assert.equal(snoozeUntil('monday', new Date(local(2026, 12, 7, 8))), local(2026, 12, 14, 9), 'on a Monday: a week later');
  assert.equal(snoozeUntil('tomorrow', new Date(local(2026, 12, 31, 22))), local(2027, 1, 1, 9), 'across the year');
  assert.equal(snoozeUntil('', wed), null);
});

test('view membership follows status and assignee, as the desk defines the views', () => {
  const me = { agentId: 'ana' };
  const open = { status: 'open' }, mine = { status: 'open', assigneeId: 'ana' }, theirs = { status: 'open', assigneeId: 'bo' };
  const cases = [
    [open, ['open', 'unassigned', 'all']],
    [mine, ['open', 'mine', 'all']],
    [theirs, ['open', 'all']],
    [{ status: 'snoozed', assigneeId: 'ana' }, ['snoozed', 'all']],
    [{ status: 'resolved' }, ['resolved', 'all']],
    [{}, ['open', 'unassigned', 'all']], // an older desk's row: open
    [{ status: 'blocked', assigneeId: 'ana' }, ['blocked']], // blocked: in no view but its own, not even all
  ];
  for (const [row, views] of cases) {
    const got = ['open', 'mine', 'unassigned', 'snoozed', 'resolved', 'all', 'blocked'].filter((v) => belongs(v, row, me));
    assert.deepEqual(got, views, JSON.stringify(row));
  }
  assert.equal(belongs('mine', mine, null), false, 'nobody signed in: nothing is mine');
});

test('sidebar order: by the latest message seq when the desk sends it, else by time; equal is not before', () => {
  assert.equal(before({ lastSeq: 4, lastAt: 9 }, { lastSeq: 5, lastAt: 1 }), true, 'seq wins over clocks');
  assert.equal(before({ lastAt: 1 }, { lastAt: 2 }), true);
  assert.equal(before({ lastSeq: 5 }, { lastSeq: 5 }), false);
  assert.equal(before({ lastAt: 2 }, { lastAt: 2 }), false);
});

test('live rows: one paint per frame with the latest row of each conversation and the row it replaced when the frame began', () => {
  const frames = []; // scheduled paints, run by hand as the browser runs animation frames
  const schedule = (run) => { frames.push(run); return () => frames.splice(frames.indexOf(run), 1); };
  const painted = [];
  const rows = createRowBatch((batch) => painted.push(batch), schedule);
  rows.add({ userId: 'a', unread: 1 }, undefined);
  rows.add({ userId: 'b', unread: 1 }, { userId: 'b', unread: 0 });
  rows.add({ userId: 'a', unread: 2 }, { userId: 'a', unread: 1 });
  assert.equal(frames.length, 1, 'one frame asked for, however many rows come');
  assert.equal(painted.length, 0, 'nothing painted before it');
  frames[0]();
  assert.deepEqual(painted, [[
    { row: { userId: 'a', unread: 2 }, before: undefined }, // new in this frame: still new
    { row: { userId: 'b', unread: 1 }, before: { userId: 'b', unread: 0 } },
  ]]);
  rows.flush();
  assert.equal(painted.length, 1, 'nothing pending, nothing painted');

  rows.add({ userId: 'c', unread: 1 }, undefined);
  rows.flush(); // the agent moves: painted now, and the frame it had asked for is cancelled
  assert.equal(painted.length, 2);
  assert.equal(frames.length, 0);
  rows.add({ userId: 'd', unread: 1 }, undefined);
  rows.clear(); // signed out
  assert.equal(frames.length, 0);
  assert.equal(rows.size, 0);
  assert.equal(painted.length, 2, 'what was cleared is never painted');
});

test('live rows: at most perFrame rows a frame, the oldest first; the rest in the next frame, still one entry per conversation', () => {
  const frames = [];
  const schedule = (run) => { frames.push(run); return () => frames.splice(frames.indexOf(run), 1); };
  const painted = [];
  const rows = createRowBatch((batch) => painted.push(batch.map((e) => `${e.row.userId}${e.row.unread}/${e.before?.unread ?? '-'}`)), schedule, 3);
  for (const id of ['a', 'b', 'c', 'd', 'e']) rows.add({ userId: id, unread: 1 }, { userId: id, unread: 0 });
  frames[0]();
  assert.deepEqual(painted, [['a1/0', 'b1/0', 'c1/0']], 'the first three, in the order they came');
  assert.equal(frames.length, 1, 'and another frame asked for the rest');
  assert.equal(rows.size, 2);
  rows.add({ userId: 'e', unread: 2 }, { userId: 'e', unread: 1 }); // still waiting: its latest row, the first `before`
  rows.add({ userId: 'a', unread: 2 }, { userId: 'a', unread: 1 }); // painted already: waits again, last
  assert.equal(frames.length, 1, 'no second frame asked for');
  frames[0]();
  assert.deepEqual(painted[1], ['d1/0', 'e2/0', 'a2/1']);
  assert.equal(frames.length, 0, 'nothing left: no frame asked for');
  for (const id of ['f', 'g', 'h', 'i']) rows.add({ userId: id, unread: 1 }, undefined);
  rows.flush();
  assert.deepEqual(painted[2], ['f1/-', 'g1/-', 'h1/-', 'i1/-'], 'flush paints everything pending at once');
  assert.equal(frames.length, 0, 'and cancels the frame it had asked for');
});

test('day labels in local time: Today, Yesterday, then a date', () => {
  const now = local(2026, 12, 2, 0, 5);
  assert.equal(dayLabel(local(2026, 12, 2, 0, 1), now), 'Today');
  assert.equal(dayLabel(local(2026, 12, 1, 23, 59), now), 'Yesterday');
  assert.match(dayLabel(local(2026, 11, 30, 12), now), /2026/);
});

test('"You" only for one\'s own replies; who may revoke whom', () => {
  const me = { agentId: 'ana', role: 'admin' };
  assert.equal(isOwn({ agentId: 'ana' }, me), true);
  assert.equal(isOwn({ agentId: 'bo' }, me), false);
  assert.equal(isOwn({ st: 'sending' }, me), true, 'an unsent reply is one\'s own');
  assert.equal(isOwn({}, me), false, 'no author: not "You"');
  assert.equal(mayRevoke(me, { agentId: 'bo', role: 'agent' }), true);
  assert.equal(mayRevoke(me, { agentId: 'cy', role: 'admin' }), false, 'an admin revokes agents only');
  assert.equal(mayRevoke(me, { agentId: 'ana', role: 'admin' }), false, 'never oneself');
  assert.equal(mayRevoke({ agentId: 'owner', role: 'owner' }, { agentId: 'cy', role: 'admin' }), true);
  assert.equal(mayRevoke({ agentId: 'owner', role: 'owner' }, { agentId: 'owner', role: 'owner' }), false);
  assert.equal(mayRevoke({ agentId: 'bo', role: 'agent' }, { agentId: 'cy', role: 'agent' }), false);
});
