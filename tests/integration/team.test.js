// The team inbox, conversation by conversation: status (resolve, reopen, snooze), assignment,
// unread, internal notes, events, and who is named on replies. Notes and events reach every admin
// socket and never any visitor socket, live or stored.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectAdmin, connectVisitor, deskName, startMiniflare } from '../helpers/desk.js';
import {
  OWNER, act, admin, agentOnly, agentSocket, assertNoNulls, closeAll, eventFor, history, internal,
  messageWith, newAgent, note, noteWith, refusal, reply, rowFor, rowOf, rows, say, texts, visitor, where,
} from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

/** Everything a visitor can be given about its conversation: live frames so far, a fresh `welcome`,
 *  its own `history`, and a resume from seq 0. None may hold a note, an event or an agent id. */
async function assertVisitorSeesNoInternals(v, label) {
  await v.expectNone(internal, 300);
  for (const f of v.frames) assert.ok(!agentOnly(f), `${label}: live frame ${JSON.stringify(f)}`);
  const back = await visitor(desk.url, v.desk, { token: v.token });
  assert.ok(!agentOnly(back.welcome), `${label}: welcome ${JSON.stringify(back.welcome)}`);
  const own = await history(back, undefined, { limit: 200 });
  assert.ok(!agentOnly(own), `${label}: visitor history ${JSON.stringify(own)}`);
  await back.close();
  const resumed = await visitor(desk.url, v.desk, { token: v.token, since: 0, epoch: v.welcome.epoch });
  assert.equal(resumed.welcome.resumed, true, 'a resume from 0 in the same epoch');
  assert.ok(!agentOnly(resumed.welcome), `${label}: resume since=0 ${JSON.stringify(resumed.welcome)}`);
  await resumed.close();
  return { welcome: back.welcome, history: own, resumed: resumed.welcome };
}

/** The desk's latest seq, from a fresh admin socket's `users`. */
async function deskSeq(name) {
  const a = await admin(desk.url, name);
  await a.close();
  return a.snapshot.seq;
}

/** A visitor who wrote `text`, remembered with its desk. */
async function customer(name, text = 'Hi, I need help', opts = {}) {
  const v = await visitor(desk.url, name, opts);
  v.desk = name;
  await say(v, text);
  return v;
}

test('users: rows carry status "open" for a new conversation; the frame says who signed in (me)', async () => {
  const name = deskName('me');
  const empty = await admin(desk.url, name);
  assert.deepEqual(empty.snapshot.me, OWNER, 'ADMIN_TOKEN signs in as the built-in owner');
  const v = await customer(name, 'first words');
  const { user } = await empty.next(rowFor(v.userId, (r) => r.lastMessage === 'first words'));
  assert.equal(user.status, 'open', `a live row carries status: ${JSON.stringify(user)}`);
  for (const via of ['bearer', 'subprotocol']) {
    const a = await admin(desk.url, name, { via });
    assert.deepEqual(a.snapshot.me, OWNER, `me via ${via}`);
    const row = rowOf(a.users, v.userId);
    assert.equal(row.status, 'open');
    for (const k of ['assigneeId', 'assigneeName', 'snoozedUntil']) assert.equal(k in row, false, `${k} omitted: ${JSON.stringify(row)}`);
    assertNoNulls(a.frames);
    await a.close();
  }
  await closeAll(empty, v);
});

test('resolve and reopen: every admin gets the row and the event; the visitor gets nothing', async () => {
  const name = deskName('resolve');
  const [a1, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await customer(name);
  for (const a of [a1, a2]) await a.next(rowFor(v.userId));
  v.drain();

  const resolved = await act(a1, { type: 'resolve', userId: v.userId }, (r) => r.status === 'resolved');
  assert.equal(resolved.type, 'user', `resolve answered ${JSON.stringify(resolved)}`);
  await a2.next(rowFor(v.userId, (r) => r.status === 'resolved'));
  for (const a of [a1, a2]) {
    const ev = await a.next(eventFor(v.userId, 'resolved'));
    assert.equal(ev.event.agentId, 'owner');
    assert.equal(ev.event.agentName, 'Owner');
    assert.ok(typeof ev.message === 'string' && ev.message.length > 0, 'a sentence to show');
    assert.ok(Number.isInteger(ev.seq) && typeof ev.id === 'string' && Number.isInteger(ev.at), `stored like a message: ${JSON.stringify(ev)}`);
  }
  assert.equal(rowOf(await rows(desk.url, name), v.userId).status, 'resolved', 'durably resolved');

  const reopened = await act(a2, { type: 'reopen', userId: v.userId }, (r) => r.status === 'open');
  assert.equal(reopened.type, 'user', `reopen answered ${JSON.stringify(reopened)}`);
  await a1.next(rowFor(v.userId, (r) => r.status === 'open'));
  for (const a of [a1, a2]) {
    const ev = await a.next(eventFor(v.userId, 'reopened'));
    assert.equal(ev.event.agentId, 'owner');
  }

  // In the admin history, in seq order, as sender "event".
  const h = await history(a1, v.userId);
  assert.deepEqual(h.messages.map((m) => [m.sender, m.event?.kind]), [['user', undefined], ['event', 'resolved'], ['event', 'reopened']]);
  assert.ok(h.messages[0].seq < h.messages[1].seq && h.messages[1].seq < h.messages[2].seq);

  const seen = await assertVisitorSeesNoInternals(v, 'resolve/reopen');
  assert.deepEqual(texts(seen.welcome.messages), ['user:Hi, I need help'], 'the visitor sees its own message only');
  assert.deepEqual(texts(seen.resumed.messages), ['user:Hi, I need help']);

  // Refusals: an unknown conversation, a wrong shape; nothing changes.
  assert.equal((await refusal(a1, { type: 'resolve', userId: 'no-such-user' })).code, 'unknown_user');
  assert.equal((await refusal(a1, { type: 'reopen', userId: 'no-such-user' })).code, 'unknown_user');
  assert.equal((await refusal(a1, { type: 'resolve', userId: 5 })).code, 'bad_frame');
  assert.equal((await refusal(a1, { type: 'resolve' })).code, 'bad_frame');
  await a2.expectNone((f) => f.type === 'error', 200);
  await closeAll(a1, a2, v);
});

test('a visitor cannot resolve, assign, note or list: refused, nothing happens', async () => {
  const name = deskName('vforbid');
  const a = await admin(desk.url, name);
  const v = await customer(name);
  const other = await customer(name, 'other here');
  for (const frame of [
    { type: 'resolve', userId: v.userId }, { type: 'resolve', userId: other.userId }, { type: 'reopen', userId: v.userId },
    { type: 'snooze', userId: v.userId, until: Date.now() + 60_000 }, { type: 'assign', userId: v.userId, agentId: 'owner' },
    { type: 'unread', userId: other.userId }, { type: 'note', userId: v.userId, message: 'a visitor note', clientMsgId: 'vn-1' },
    { type: 'list' }, { type: 'search', query: 'other' }, { type: 'agents' }, { type: 'profile', name: 'Boss' },
    { type: 'invite', name: 'Mallory', role: 'admin' }, { type: 'revoke', agentId: 'owner' },
  ]) {
    v.send(frame);
    const err = await v.next('error');
    assert.ok(['forbidden', 'unknown_type'].includes(err.code), `${frame.type} from a visitor: ${JSON.stringify(err)}`);
  }
  await a.expectNone((f) => f.type === 'message' && f.message === 'a visitor note', 300);
  const after = await rows(desk.url, name);
  assert.deepEqual(after.map((r) => [r.status, r.unread, 'assigneeId' in r]), [['open', 1, false], ['open', 1, false]]);
  assert.deepEqual(texts((await history(a, v.userId)).messages), ['user:Hi, I need help'], 'no note stored');
  await closeAll(a, v, other);
});

test('snooze: the row says until when; the desk\'s alarm reopens it (row and event); bad until is bad_frame', async () => {
  const name = deskName('snooze');
  const [a1, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await customer(name);
  for (const bad of [Date.now() - 1000, 'tomorrow', null, Date.now() + 400 * 24 * 3600_000, 1.5e20]) {
    const err = await refusal(a1, { type: 'snooze', userId: v.userId, until: bad });
    assert.equal(err.code, 'bad_frame', `until ${bad}: ${JSON.stringify(err)}`);
  }
  assert.equal((await refusal(a1, { type: 'snooze', userId: v.userId })).code, 'bad_frame', 'until missing');
  assert.equal((await refusal(a1, { type: 'snooze', userId: 'no-such-user', until: Date.now() + 60_000 })).code, 'unknown_user');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).status, 'open', 'refused snoozes changed nothing');

  const until = Date.now() + 1500;
  a2.drain(); // earlier rows (open) must not pass for the reopening
  const snoozed = await act(a1, { type: 'snooze', userId: v.userId, until }, (r) => r.status === 'snoozed');
  assert.equal(snoozed.type, 'user', `snooze answered ${JSON.stringify(snoozed)}`);
  assert.equal(snoozed.user.snoozedUntil, until);
  await a2.next(rowFor(v.userId, (r) => r.status === 'snoozed' && r.snoozedUntil === until));
  const ev = await a2.next(eventFor(v.userId, 'snoozed'));
  assert.equal(ev.event.until, until);
  assert.equal(ev.event.agentId, 'owner');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).snoozedUntil, until, 'durably snoozed');

  // The alarm fires on its own: wait for its frames (no sleep).
  for (const a of [a1, a2]) {
    const { user } = await a.next(rowFor(v.userId, (r) => r.status === 'open'), { timeout: 15_000 });
    assert.equal('snoozedUntil' in user, false, `snoozedUntil omitted once open: ${JSON.stringify(user)}`);
    await a.next(eventFor(v.userId, 'reopened'), { timeout: 5000 });
  }
  assert.ok(Date.now() >= until, 'not reopened before its time');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).status, 'open', 'durably open again');
  const kinds = (await history(a1, v.userId)).messages.map((m) => m.event?.kind ?? m.sender);
  assert.deepEqual(kinds, ['user', 'snoozed', 'reopened']);
  await assertVisitorSeesNoInternals(v, 'snooze');
  await closeAll(a1, a2, v);
});

test('a visitor writing to a resolved or snoozed conversation reopens it (row, event without agentId)', async () => {
  const name = deskName('vreopen');
  const a = await admin(desk.url, name);
  const v = await customer(name, 'first');
  const w = await customer(name, 'first of w');
  await act(a, { type: 'resolve', userId: v.userId }, (r) => r.status === 'resolved');
  await act(a, { type: 'snooze', userId: w.userId, until: Date.now() + 3600_000 }, (r) => r.status === 'snoozed');
  a.drain();

  await say(v, 'one more thing');
  await a.next(rowFor(v.userId, (r) => r.status === 'open' && r.lastMessage === 'one more thing'));
  const ev = await a.next(eventFor(v.userId, 'reopened'));
  assert.equal('agentId' in ev.event, false, `a visitor's reopen names no agent: ${JSON.stringify(ev)}`);
  await say(w, 'still there?');
  await a.next(rowFor(w.userId, (r) => r.status === 'open' && !('snoozedUntil' in r)));
  await a.next(eventFor(w.userId, 'reopened'));
  const h = (await history(a, v.userId)).messages.map((m) => m.event?.kind ?? m.message);
  assert.deepEqual(h.slice(0, 2), ['first', 'resolved']);
  assert.deepEqual(h.slice(2).sort(), ['one more thing', 'reopened'], 'the reopen is recorded with the message that caused it');
  for (const x of [v, w]) await assertVisitorSeesNoInternals(x, 'visitor reopen');
  // An open conversation stays open, with no event.
  await say(v, 'and another');
  await a.next(rowFor(v.userId, (r) => r.lastMessage === 'and another'));
  await a.expectNone(eventFor(v.userId, 'reopened'), 300);
  await closeAll(a, v, w);
});

test('assign to another agent, to null, to an unknown agent; every admin socket gets the row', async () => {
  const name = deskName('assign');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const anaSock = await agentSocket(desk.url, name, ana);
  const v = await customer(name);
  await anaSock.next(rowFor(v.userId));

  const assigned = await act(owner, { type: 'assign', userId: v.userId, agentId: ana.agentId }, (r) => r.assigneeId === ana.agentId);
  assert.equal(assigned.type, 'user', `assign answered ${JSON.stringify(assigned)}`);
  assert.equal(assigned.user.assigneeName, 'Ana');
  assert.equal(assigned.user.status, 'open', 'assigning does not change the status');
  await anaSock.next(rowFor(v.userId, (r) => r.assigneeId === ana.agentId && r.assigneeName === 'Ana'));
  for (const a of [owner, anaSock]) {
    const ev = await a.next(eventFor(v.userId, 'assigned'));
    assert.deepEqual([ev.event.assigneeId, ev.event.assigneeName, ev.event.agentId], [ana.agentId, 'Ana', 'owner']);
  }
  assert.equal(rowOf(await rows(desk.url, name), v.userId).assigneeId, ana.agentId, 'durably assigned');

  // Ana hands it back to nobody.
  const none = await act(anaSock, { type: 'assign', userId: v.userId, agentId: null }, (r) => !('assigneeId' in r));
  assert.equal(none.type, 'user', `unassign answered ${JSON.stringify(none)}`);
  assert.equal('assigneeName' in none.user, false, 'omitted, never null');
  await owner.next(rowFor(v.userId, (r) => !('assigneeId' in r)));
  const ev = await owner.next(eventFor(v.userId, 'unassigned'));
  assert.equal(ev.event.agentId, ana.agentId);
  assert.equal(ev.event.agentName, 'Ana');

  // The owner may be assigned too.
  await act(anaSock, { type: 'assign', userId: v.userId, agentId: 'owner' }, (r) => r.assigneeId === 'owner' && r.assigneeName === 'Owner');

  for (const bad of ['no-such-agent', '']) {
    const err = await refusal(owner, { type: 'assign', userId: v.userId, agentId: bad });
    assert.ok(['unknown_agent', ...(bad === '' ? ['bad_frame'] : [])].includes(err.code), `agentId "${bad}": ${JSON.stringify(err)}`);
  }
  assert.equal((await refusal(owner, { type: 'assign', userId: v.userId, agentId: 7 })).code, 'bad_frame');
  assert.equal((await refusal(owner, { type: 'assign', userId: 'no-such-user', agentId: 'owner' })).code, 'unknown_user');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).assigneeId, 'owner', 'refusals changed nothing');
  assert.deepEqual((await history(owner, v.userId)).messages.map((m) => m.event?.kind ?? m.sender),
    ['user', 'assigned', 'unassigned', 'assigned']);
  await assertVisitorSeesNoInternals(v, 'assign');
  for (const c of [owner, anaSock]) assertNoNulls(c.frames);
  await closeAll(owner, anaSock, v);
});

test('unread marks a read conversation unread again, durably, on every admin socket', async () => {
  const name = deskName('unread');
  const [a1, a2] = [await admin(desk.url, name), await admin(desk.url, name)];
  const v = await customer(name);
  a1.send({ type: 'read', userId: v.userId });
  for (const a of [a1, a2]) await a.next(rowFor(v.userId, (r) => r.unread === 0));
  await v.next(where('its read mark', (f) => f.type === 'read')); // the visitor learns it was read (an unread mark tells it nothing)
  a2.drain(); // the row of the visitor's message (unread 1) must not pass for the answer
  const marked = await act(a1, { type: 'unread', userId: v.userId }, (r) => r.unread >= 1);
  assert.equal(marked.type, 'user', `unread answered ${JSON.stringify(marked)}`);
  await a2.next(rowFor(v.userId, (r) => r.unread >= 1));
  assert.ok(rowOf(await rows(desk.url, name), v.userId).unread >= 1, 'durably unread');
  assert.equal((await refusal(a1, { type: 'unread', userId: 'no-such-user' })).code, 'unknown_user');
  // Already unread: the count is kept ("at least 1"), not reset.
  await say(v, 'two');
  await say(v, 'three');
  await a1.next(rowFor(v.userId, (r) => r.lastMessage === 'three')); // before act() drains, so it cannot pass for the answer
  const counted = rowOf(await rows(desk.url, name), v.userId).unread;
  assert.ok(counted >= 3, `unread counts on: ${counted}`);
  const kept = await act(a1, { type: 'unread', userId: v.userId }, () => true);
  assert.equal(kept.user?.unread, counted, `unread on an unread conversation keeps its count: ${JSON.stringify(kept)}`);
  await v.expectNone((f) => f.type !== 'ack', 300);
  await closeAll(a1, a2, v);
});

test('a note: acked with userId, mirrored to the other admins as sender "note", never to a visitor', async () => {
  const name = deskName('note');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const anaSock = await agentSocket(desk.url, name, ana);
  const older = await customer(name, 'older conversation');
  const v = await customer(name, 'my parcel is lost');
  await owner.next(rowFor(v.userId));
  const beforeRows = await rows(desk.url, name);
  const since = await deskSeq(name);

  const text = 'Internal: customer is on the premium plan';
  const ack = await note(anaSock, v.userId, text, 'n-1');
  assert.equal(ack.type, 'ack', `note answered ${JSON.stringify(ack)}`);
  assert.equal(ack.userId, v.userId, 'the ack names the conversation');
  assert.ok(Number.isInteger(ack.seq) && ack.seq > since && typeof ack.id === 'string');
  const mirror = await owner.next(noteWith(text));
  assert.deepEqual([mirror.userId, mirror.id, mirror.seq, mirror.agentId, mirror.agentName], [v.userId, ack.id, ack.seq, ana.agentId, 'Ana']);
  await anaSock.expectNone(noteWith(text), 300);

  // A retry with the same clientMsgId is acked with the original (as for messages).
  const again = await note(anaSock, v.userId, 'changed text', 'n-1');
  assert.deepEqual([again.type, again.id, again.seq], ['ack', ack.id, ack.seq], 'a retried note is stored once');

  // Not unread, not the preview, not the order.
  const afterRows = await rows(desk.url, name);
  assert.deepEqual(afterRows.map((r) => [r.userId, r.unread, r.lastMessage, r.lastAt]),
    beforeRows.map((r) => [r.userId, r.unread, r.lastMessage, r.lastAt]), 'rows unchanged by a note');
  // An older conversation's note does not move it up either.
  await note(owner, older.userId, 'note on the older one');
  assert.deepEqual((await rows(desk.url, name)).map((r) => r.userId), [v.userId, older.userId]);

  // Admin history and an admin resume carry it; the visitor never sees it.
  const h = await history(owner, v.userId);
  const stored = h.messages.find((m) => m.sender === 'note');
  assert.deepEqual([stored.message, stored.agentId, stored.agentName, stored.seq], [text, ana.agentId, 'Ana', ack.seq]);
  const resumed = await connectAdmin(desk.url, name, { since, epoch: owner.snapshot.epoch });
  assert.equal((await resumed.next('users')).resumed, true);
  const missed = await resumed.next(noteWith(text));
  assert.equal(missed.userId, v.userId);
  await resumed.close();
  const seen = await assertVisitorSeesNoInternals(v, 'note');
  assert.deepEqual(texts(seen.welcome.messages), ['user:my parcel is lost']);

  // Refusals.
  assert.equal((await note(owner, v.userId, '   ')).code, 'empty_message');
  assert.equal((await note(owner, v.userId, 'x'.repeat(4001))).code, 'too_long');
  assert.equal((await note(owner, 'no-such-user', 'ghost')).code, 'unknown_user');
  await closeAll(owner, anaSock, older, v);
});

test('replies name their agent: agentName to the visitor (live and in welcome), agentId too to admins', async () => {
  const name = deskName('named');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const anaSock = await agentSocket(desk.url, name, ana);
  const v = await customer(name);
  await owner.next(rowFor(v.userId));
  owner.drain();

  const ack = await reply(anaSock, v.userId, 'Hello, Ana here');
  assert.equal(ack.userId, v.userId);
  const live = await v.next(messageWith('Hello, Ana here'));
  assert.equal(live.sender, 'admin');
  assert.equal(live.agentName, 'Ana', `the visitor sees who answered: ${JSON.stringify(live)}`);
  assert.equal('agentId' in live, false, 'agentId is for admins only');
  const mirror = await owner.next(messageWith('Hello, Ana here'));
  assert.deepEqual([mirror.sender, mirror.agentId, mirror.agentName, mirror.seq], ['admin', ana.agentId, 'Ana', ack.seq]);

  // The first agent reply to an unassigned conversation assigns it to its author.
  for (const a of [owner, anaSock]) {
    await a.next(rowFor(v.userId, (r) => r.assigneeId === ana.agentId && r.assigneeName === 'Ana'));
    const ev = await a.next(eventFor(v.userId, 'assigned'));
    assert.deepEqual([ev.event.assigneeId, ev.event.assigneeName], [ana.agentId, 'Ana']);
  }
  // A later reply by someone else does not take it over.
  await reply(owner, v.userId, 'Owner chiming in');
  const ownerLive = await v.next(messageWith('Owner chiming in'));
  assert.equal(ownerLive.agentName, 'Owner');
  await anaSock.next(messageWith('Owner chiming in'));
  await owner.expectNone(eventFor(v.userId, 'assigned'), 300);
  assert.equal(rowOf(await rows(desk.url, name), v.userId).assigneeId, ana.agentId, 'still Ana\'s');

  // Stored: welcome after reconnect (agentName, no agentId), admin history (both).
  await v.close();
  const back = await visitor(desk.url, name, { token: v.token });
  const replies = back.welcome.messages.filter((m) => m.sender === 'admin');
  assert.deepEqual(replies.map((m) => [m.message, m.agentName, 'agentId' in m]),
    [['Hello, Ana here', 'Ana', false], ['Owner chiming in', 'Owner', false]]);
  assert.deepEqual(back.welcome.messages.map((m) => m.sender), ['user', 'admin', 'admin'], 'no event in welcome');
  const h = await history(owner, v.userId);
  assert.deepEqual(h.messages.filter((m) => m.sender === 'admin').map((m) => [m.agentId, m.agentName]), [[ana.agentId, 'Ana'], ['owner', 'Owner']]);

  // The owner's first reply to another unassigned conversation makes it the owner's.
  const w = await customer(name, 'anyone?');
  await reply(owner, w.userId, 'Owner here');
  await owner.next(rowFor(w.userId, (r) => r.assigneeId === 'owner'));
  await owner.next(eventFor(w.userId, 'assigned', (f) => f.event.assigneeId === 'owner'));
  // A reply to a conversation someone unassigned on purpose is a new first reply: assigned again.
  await act(owner, { type: 'assign', userId: w.userId, agentId: null }, (r) => !('assigneeId' in r));
  await reply(anaSock, w.userId, 'Ana takes it');
  await owner.next(rowFor(w.userId, (r) => r.assigneeId === ana.agentId));
  await closeAll(owner, anaSock, back, w);
});

test('an admin resume carries notes and events in seq order; a visitor resume skips them', async () => {
  const name = deskName('resume');
  const a = await admin(desk.url, name);
  const v = await customer(name, 'before');
  const since = await deskSeq(name);
  await act(a, { type: 'resolve', userId: v.userId }, (r) => r.status === 'resolved');
  await note(a, v.userId, 'a note in between');
  await say(v, 'after'); // reopens it
  await reply(a, v.userId, 'an answer'); // assigns it
  await a.next(eventFor(v.userId, 'assigned'));

  const back = await connectAdmin(desk.url, name, { since, epoch: a.snapshot.epoch });
  const users = await back.next('users');
  assert.equal(users.resumed, true);
  const missed = [];
  while (missed.length < 6) missed.push(await back.next('message'));
  const got = missed.map((m) => m.event?.kind ?? `${m.sender}:${m.message}`);
  // The order inside a pair that one frame caused (a message and its event) is the desk's choice.
  assert.deepEqual([got[0], got[1], got.slice(2, 4).sort(), got.slice(4).sort()],
    ['resolved', 'note:a note in between', ['reopened', 'user:after'], ['admin:an answer', 'assigned']]);
  for (let i = 1; i < missed.length; i += 1) assert.ok(missed[i - 1].seq < missed[i].seq, 'in seq order');
  assert.ok(missed.every((m) => m.userId === v.userId));

  const vr = await connectVisitor(desk.url, name, { token: v.token, since: 0, epoch: v.welcome.epoch });
  const w = await vr.next('welcome');
  assert.deepEqual(texts(w.messages), ['user:before', 'user:after', 'admin:an answer']);
  assert.ok(!agentOnly(w), JSON.stringify(w));
  // A visitor resuming from the seq of an event (e.g. learnt from nothing it saw) gets no gap.
  const vr2 = await connectVisitor(desk.url, name, { token: v.token, since: missed[0].seq, epoch: v.welcome.epoch });
  const w2 = await vr2.next('welcome');
  assert.deepEqual(texts(w2.messages), ['user:after', 'admin:an answer']);
  await closeAll(a, back, v, vr, vr2);
});

test('a stale snooze never fires: reopened or resolved by hand, or snoozed again for later', async () => {
  const name = deskName('snooze-stale');
  const a = await admin(desk.url, name);
  const [byHand, resolved, later] = [await customer(name, 'one'), await customer(name, 'two'), await customer(name, 'three')];
  await a.next(rowFor(later.userId, (r) => r.lastMessage === 'three'));
  const soon = Date.now() + 1500;
  for (const v of [byHand, resolved, later]) {
    await act(a, { type: 'snooze', userId: v.userId, until: soon }, (r) => r.status === 'snoozed');
  }
  const reopened = await act(a, { type: 'reopen', userId: byHand.userId }, (r) => r.status === 'open');
  assert.equal('snoozedUntil' in reopened.user, false, 'reopening clears snoozedUntil');
  await act(a, { type: 'resolve', userId: resolved.userId }, (r) => r.status === 'resolved');
  const laterUntil = Date.now() + 4000;
  const again = await act(a, { type: 'snooze', userId: later.userId, until: laterUntil }, (r) => r.snoozedUntil === laterUntil);
  assert.equal(again.user.status, 'snoozed');

  // The later snooze is the one that fires; nothing fires for the other two, before or after.
  const woke = await a.next(rowFor(later.userId, (r) => r.status === 'open'), { timeout: 15_000 });
  assert.ok(Date.now() >= laterUntil, `the second snooze replaced the first: woke ${laterUntil - Date.now()} ms early`);
  assert.equal(woke.user.status, 'open');
  await a.expectNone(where('an event or row for the other two', (f) => [byHand.userId, resolved.userId].includes(f.userId ?? f.user?.userId)), 500);
  const now = await rows(desk.url, name);
  assert.deepEqual([rowOf(now, byHand.userId).status, rowOf(now, resolved.userId).status, rowOf(now, later.userId).status],
    ['open', 'resolved', 'open'], 'a resolved conversation is not reopened by an old snooze');
  const kinds = (userId) => history(a, userId).then((h) => h.messages.map((m) => m.event?.kind ?? m.sender));
  assert.deepEqual(await kinds(byHand.userId), ['user', 'snoozed', 'reopened']);
  assert.deepEqual(await kinds(resolved.userId), ['user', 'snoozed', 'resolved']);
  assert.deepEqual(await kinds(later.userId), ['user', 'snoozed', 'snoozed', 'reopened']);
  await closeAll(a, byHand, resolved, later);
});

test('two agents answer an unassigned conversation at once: one assignment, to the first reply\'s author', async () => {
  const name = deskName('race');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const bo = await newAgent(desk.url, name, owner, { name: 'Bo' });
  const [sa, sb] = [await agentSocket(desk.url, name, ana), await agentSocket(desk.url, name, bo)];
  const v = await customer(name, 'anyone?');
  await owner.next(rowFor(v.userId, (r) => r.lastMessage === 'anyone?'));
  const [ackA, ackB] = await Promise.all([reply(sa, v.userId, 'Ana: hi'), reply(sb, v.userId, 'Bo: hi')]);
  const first = ackA.seq < ackB.seq ? ana : bo;
  const h = (await history(owner, v.userId)).messages;
  const assigned = h.filter((m) => m.event?.kind === 'assigned');
  assert.equal(assigned.length, 1, `one assignment: ${JSON.stringify(assigned)}`);
  assert.equal(assigned[0].event.assigneeId, first.agentId, 'to the author of the first reply');
  assert.equal(rowOf(await rows(desk.url, name), v.userId).assigneeId, first.agentId);
  await closeAll(owner, sa, sb, v);
});

test('assignments sent quickly from two sockets: every socket\'s last row is the stored state', async () => {
  const name = deskName('flurry');
  const owner = await admin(desk.url, name);
  const ana = await newAgent(desk.url, name, owner, { name: 'Ana' });
  const sa = await agentSocket(desk.url, name, ana);
  const v = await customer(name, 'pass me around');
  await Promise.all([owner, sa].map((s) => s.next(rowFor(v.userId, (r) => r.lastMessage === 'pass me around'))));
  for (let i = 0; i < 15; i += 1) {
    owner.send({ type: 'assign', userId: v.userId, agentId: i % 2 ? 'owner' : ana.agentId });
    sa.send({ type: 'assign', userId: v.userId, agentId: i % 3 ? null : 'owner' });
  }
  // A frame the desk itself answers (not ping: the runtime answers that) queues behind each socket's
  // assigns; a second round on each socket then comes after every row the other one caused.
  for (let round = 0; round < 2; round += 1) {
    owner.send({ type: 'agents' });
    sa.send({ type: 'agents' });
    await Promise.all([owner.next('agents'), sa.next('agents')]);
  }
  const stored = rowOf(await rows(desk.url, name), v.userId);
  for (const s of [owner, sa]) {
    await s.expectNone((f) => f.type === 'error', 200);
    const last = s.frames.filter((f) => f.type === 'user' && f.user.userId === v.userId).at(-1).user;
    assert.deepEqual([last.assigneeId, last.assigneeName], [stored.assigneeId, stored.assigneeName],
      `the last row a socket heard is the stored assignment (${s === owner ? 'owner' : 'Ana'})`);
  }
  await closeAll(owner, sa, v);
});
