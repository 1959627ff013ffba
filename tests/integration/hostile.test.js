// The hostile-input corpus (tests/hostile/) against the built worker: every hostile frame and request
// gets its documented refusal, sockets stay usable, and stored state reads back unchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createHmac } from 'node:crypto';
import {
  ADMIN_TOKEN, BULK_LIMITS, IDENTITY_SECRET, deskKey, deskName, handshakeHeaders, rawRequest, requestTicket, startMiniflare, userHash,
} from '../helpers/desk.js';
import { ACCEPTED, FRAMES, REQUESTS } from '../hostile/corpus.js';
import { admin, asVisitorSees, closeAll, history, messageWith, reply, rowFor, say, storedState, visitor } from './flows.js';

const PING = '{"type":"ping"}';
/** After this many corpus frames on a socket, a real frame must still be answered by the desk. */
const VALID_EVERY = 10;
/** How long silence must last to count as "nothing was delivered" (absence cannot be awaited). */
const QUIET_MS = 300;

let desk;
/** Sockets, context and the stored state every later test compares against. */
const w = {};

const valueOf = (x, ctx) => (typeof x === 'function' ? x(ctx) : x);
const show = (f) => (Buffer.isBuffer(f) ? `<${f.length} bytes>` : JSON.stringify(f).slice(0, 140));

function sendFrame(client, frame, binary) {
  if (binary) client.sendRaw(Buffer.from(frame), { binary: true });
  else if (Buffer.isBuffer(frame)) client.sendRaw(frame, { binary: false }); // a text frame of these bytes
  else client.sendRaw(frame);
}

/** Nothing at all reaches these sockets for a while (they have been drained before the phase). */
const quiet = (...clients) => Promise.all(clients.map((c) => c.expectNone(() => true, QUIET_MS)));

/** Takes the frames no phase accounted for, as a subtest that fails if there were any (a phase
 *  runs its corpus anyway, so that one failure does not hide the rest). */
const leftovers = (t) => {
  const left = w.all.flatMap((c) => c.drain().map((f) => `${c.label}: ${JSON.stringify(f).slice(0, 160)}`));
  return t.test('no frame left over from the previous phase', () => assert.deepEqual(left, []));
};

before(async () => {
  // A hundred refusals in a row from one socket, on purpose: the frame limits would answer rate_limited
  // instead of each frame's own code (limits have their own tests in abuse.test.js).
  // The two desks are the deployment's only ones (DESKS), as in production: any other name is the
  // "unlimited desks" class of the corpus.
  const [desk1, desk2] = [deskName('hostile-one'), deskName('hostile-two')];
  desk = await startMiniflare({ bindings: { ...BULK_LIMITS, IDENTITY_SECRET, DESKS: `${desk1},${desk2}` } });
  const adm = await admin(desk.url, desk1); // sends the admin half of the corpus
  const obs = await admin(desk.url, desk1); // another admin tab: hears nothing of refused frames
  const adm2 = await admin(desk.url, desk2);
  const A = await visitor(desk.url, desk1, { name: 'Alice' }); // sends the visitor half
  const B = await visitor(desk.url, desk1);
  const C = await visitor(desk.url, desk1, { name: 'Carol' });
  const T = await visitor(desk.url, desk1, { name: 'Throwaway' }); // sends ACCEPTED only
  const X = await visitor(desk.url, desk2);
  const cid = { a: 'a-1', b: 'b-1', reply: 'r-a-1' };

  await say(A, 'hello from A', cid.a);
  await say(A, 'A again', 'a-2');
  await say(B, 'hello from B', cid.b);
  await say(C, 'C one', 'c-1');
  await reply(adm, A.userId, 'hi A', cid.reply);
  await reply(adm, C.userId, 'hi C', 'r-c-1');
  adm.send({ type: 'read', userId: B.userId });
  await adm.next(rowFor(B.userId, (r) => r.unread === 0));
  await say(B, 'B after the read', 'b-2');
  await say(C, 'C two', 'c-2');
  await say(X, 'hello desk 2', 'x-1');
  await reply(adm2, X.userId, 'hi X', 'r-x-1');
  // Wait for the last frame each socket is due, so that nothing of the setup arrives later.
  await Promise.all([A.next(messageWith('hi A')), C.next(messageWith('hi C')), X.next(messageWith('hi X')),
    ...[adm, obs].map((a) => a.next(rowFor(C.userId, (r) => r.lastMessage === 'C two'))),
    adm2.next(rowFor(X.userId, (r) => r.lastMessage === 'hi X'))]);
  const all = [adm, obs, adm2, A, B, C, T, X];
  all.forEach((c) => c.drain());
  Object.assign(w, { desk1, desk2, adm, obs, adm2, A, B, C, T, X, all, ctx: { A, B, C, T, X, cid } });
  w.before = await storedState(desk.url, desk1, [A, B, C, T]);
  w.beforeX = await storedState(desk.url, desk2, [X]);
});

after(async () => {
  await closeAll(...(w.all ?? []));
  await desk?.dispose();
});

test('odd but valid frames land only in the sender\'s own conversation', async (t) => {
  const { A, B, C, T, X, adm, obs, adm2, ctx } = w;
  const known = new Set(Object.values(w.before.history).flatMap((h) => h.messages.map((m) => m.id)));
  const stored = [];
  for (const entry of ACCEPTED) {
    await t.test(entry.name, async () => {
      assert.deepEqual(T.pending, [], 'nothing unanswered before the frame');
      sendFrame(T, valueOf(entry.frame, ctx));
      const got = await T.next(() => true);
      if (entry.stores !== undefined) {
        assert.equal(got.type, 'ack', `stored and acked: ${JSON.stringify(got)}`);
        assert.ok(!known.has(got.id), 'a new message of its own, never the original of another sender');
        stored.push({ id: got.id, message: entry.stores });
      } else {
        assert.equal(got.type, 'history', `answered with history: ${JSON.stringify(got)}`);
        assert.equal(got.userId, T.userId, 'its own history');
        assert.deepEqual(got.messages.map((m) => m.message), stored.map((s) => s.message));
      }
    });
  }
  // Admins hear T (and only T); nobody else hears anything.
  await Promise.all([adm, obs].map((a) => a.next(rowFor(T.userId, (r) => r.unread === stored.length))));
  for (const a of [adm, obs]) {
    for (const f of a.drain()) assert.equal(f.userId ?? f.user?.userId, T.userId, `admins only hear T: ${JSON.stringify(f)}`);
  }
  await quiet(A, B, C, X, adm2);

  w.snapshot = await storedState(desk.url, w.desk1, [A, B, C, T]);
  w.snapshotX = await storedState(desk.url, w.desk2, [X]);
  const [was, now] = [w.before, w.snapshot];
  assert.deepEqual(now.history[T.userId].messages.map((m) => ({ id: m.id, message: m.message, sender: m.sender })),
    stored.map((s) => ({ ...s, sender: 'user' })), "exactly the accepted messages, in T's conversation");
  assert.equal(now.users.users.find((r) => r.userId === T.userId)?.unread, stored.length);
  // Ignored here, because they legitimately changed: T's row, history and welcome (checked above)
  // and the desk-wide seq (it moved by exactly T's messages).
  assert.equal(now.users.seq, was.users.seq + stored.length);
  assert.equal(now.users.epoch, was.users.epoch);
  const others = (s) => s.users.users.filter((r) => r.userId !== T.userId);
  assert.deepEqual(others(now), others(was), "every other row is as it was");
  for (const v of [A, B, C]) {
    assert.deepEqual(now.history[v.userId], was.history[v.userId], `history of ${v.userId}`);
    assert.deepEqual(now.welcome[v.userId], was.welcome[v.userId], `welcome of ${v.userId}`);
  }
  assert.deepEqual(w.snapshotX, w.beforeX, 'desk 2 is untouched');
});

/** The desk (not only the runtime's ping auto-answer) still serves this socket: a real `history`. */
async function stillServes(as) {
  const { A, B, adm, snapshot } = w;
  // The visitor's own history is the admin's minus what only agents see (events, agentId).
  if (as === 'visitor') assert.deepEqual(await history(A, undefined, { limit: 200 }), asVisitorSees(snapshot.history[A.userId]));
  else assert.deepEqual(await history(adm, B.userId, { limit: 200 }), snapshot.history[B.userId]);
}

test('every hostile frame is refused with its documented code and the socket stays usable', async (t) => {
  assert.ok(w.snapshot, 'the state before the corpus was read back');
  const { A, adm, ctx } = w;
  await leftovers(t);
  const sockets = { visitor: A, admin: adm };
  const sent = { visitor: 0, admin: 0 };
  for (const entry of FRAMES) {
    await t.test(`${entry.as}: ${entry.name}`, async () => {
      const client = sockets[entry.as];
      assert.deepEqual(client.pending, [], 'nothing unanswered before the frame');
      const frame = valueOf(entry.frame, ctx);
      sendFrame(client, frame, entry.binary);
      const err = await client.next(() => true);
      assert.equal(err.type, 'error', `${show(frame)} is refused, got ${JSON.stringify(err).slice(0, 200)}`);
      assert.equal(err.code, entry.code, `${show(frame)}: ${JSON.stringify(err).slice(0, 200)}`);
      assert.ok(typeof err.message === 'string' && err.message.length > 0, 'errors carry a message for people');
      assert.equal(err.clientMsgId, valueOf(entry.echo, ctx), 'clientMsgId echoed exactly when the frame carried a valid one');
      client.sendRaw(PING);
      assert.deepEqual(await client.next(() => true), { type: 'pong' }, 'the socket still answers');
      assert.ok(client.open, 'the socket stays open');
      if (++sent[entry.as] % VALID_EVERY === 0) await stillServes(entry.as);
    });
  }

  await t.test('valid frames after the corpus are still served, retries acked with the originals', async () => {
    await stillServes('visitor');
    await stillServes('admin');
    const original = (userId, clientMsgId) => w.snapshot.history[userId].messages.find((m) => m.clientMsgId === clientMsgId);
    const a = original(A.userId, ctx.cid.a);
    assert.deepEqual(await say(A, 'a different text, same clientMsgId', ctx.cid.a),
      { type: 'ack', clientMsgId: a.clientMsgId, id: a.id, seq: a.seq, at: a.at });
    const r = original(A.userId, ctx.cid.reply);
    assert.deepEqual(await reply(adm, A.userId, 'another reply text', ctx.cid.reply),
      { type: 'ack', clientMsgId: r.clientMsgId, id: r.id, seq: r.seq, at: r.at, userId: A.userId });
  });
  await t.test('nobody else heard anything', async () => {
    const { B, C, T, X, obs, adm2 } = w;
    await quiet(A, adm, B, C, T, X, obs, adm2);
  });
});

test('every hostile request is refused with its documented status and code', async (t) => {
  const { desk1, desk2, A, B, X } = w;
  // Unused tickets of desk 1 (issuing one stores only its hash: no row a readback shows).
  const tickets = {
    visitor: (await requestTicket(desk.url, desk1, { body: { token: A.token } })).body.ticket,
    admin: (await requestTicket(desk.url, desk1, { kind: 'admin', token: ADMIN_TOKEN })).body.ticket,
  };
  assert.ok(tickets.visitor && tickets.admin, 'tickets issued');
  const unboundHash = (userId) => createHmac('sha256', IDENTITY_SECRET).update(userId).digest('hex');
  const ctx = { desk1, desk2, A, B, X, origin: desk.url, secret: ADMIN_TOKEN, tickets, userHash, deskKey, unboundHash };
  await leftovers(t);
  for (const entry of REQUESTS) {
    await t.test(entry.name, async () => {
      const path = valueOf(entry.path, ctx);
      const headers = [...(entry.ws ? handshakeHeaders() : []), ...(valueOf(entry.headers, ctx) ?? [])];
      const res = await rawRequest(desk.url, path, { method: entry.method, headers, body: valueOf(entry.body, ctx) });
      const shown = `${entry.method} ${path.slice(0, 100)}`;
      assert.equal(res.status, entry.status, `${shown}: want ${entry.status}, got ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.body?.code, entry.code, `${shown}: body ${res.text.slice(0, 200)}`);
      assert.equal(typeof res.body.message, 'string');
    });
  }
  await t.test('no socket heard anything (no presence change, nothing delivered)', () => quiet(...w.all));
});

test('the stored state reads back exactly as before the corpus, on both desks', async (t) => {
  assert.ok(w.snapshot, 'the state before the corpus was read back');
  const { A, B, C, T, X } = w;
  await leftovers(t);
  // Nothing is ignored: every corpus and observer socket stayed open across both readings, so even
  // the presence flags (`online`) must match; the readback's own sockets are extra tabs of visitors
  // who are online anyway (no presence change) and a fresh admin socket.
  assert.deepEqual(await storedState(desk.url, w.desk1, [A, B, C, T]), w.snapshot, 'desk 1: users, histories, welcomes');
  assert.deepEqual(await storedState(desk.url, w.desk2, [X]), w.snapshotX, 'desk 2: users, history, welcome');
  for (const c of w.all) assert.ok(c.open, `${c.label} is still open`);
});
