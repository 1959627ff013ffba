// The desk object evicted in the middle of a burst: its runtime stops while visitors and an agent
// have messages in flight, and a new one starts on the same storage. Whatever the object held in
// memory (the view cache, the next seq, the epoch, who each socket is) is gone; SQLite must have
// every acked message, and the clients' resends (same clientMsgId, as widget and inbox do) must
// neither double one nor lose one. Nothing misrouted, unread counts exact.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, cid, history, rowFor, rows, visitor, where } from './flows.js';

let runtime;
after(async () => { await runtime?.dispose(); });

const VISITORS = 5;
// The desk handles frames in batches of up to 64, one commit each (src/desk_object/batch.rs), so
// the second half (250 frames) takes several commits: the runtime is stopped after the first.
const PER_VISITOR = 80; // visitor messages each, half before the eviction starts, half around it
const REPLIES_EACH = 20; // agent replies to each visitor, likewise

/** Every frame a client has received that matches, consumed or not. */
const seen = (client, match) => client.frames.filter(match);
const acked = (client, id) => seen(client, (f) => f.type === 'ack' && f.clientMsgId === id)[0];

test('evicted mid-burst: nothing lost, doubled or misrouted, unread counts exact', { timeout: 120_000 }, async () => {
  const persistDir = tempDir('desk-evict-');
  const name = deskName('evict');
  runtime = await startMiniflare({ persistDir, bindings: BULK_LIMITS });
  let a = await admin(runtime.url, name);
  const vs = [];
  for (let i = 0; i < VISITORS; i++) vs.push(await visitor(runtime.url, name));

  // What each client means to send: [clientMsgId, frame]. Visitor i's texts and the replies to it
  // name i, so a frame that reaches the wrong socket is recognised.
  const plan = vs.map((v, i) => ({
    said: Array.from({ length: PER_VISITOR }, (_, k) => [cid(`v${i}`), { type: 'message', message: `from ${i} #${k}` }]),
    replies: Array.from({ length: REPLIES_EACH }, (_, k) =>
      [cid(`a${i}`), { type: 'message', message: `to ${i} #${k}`, targetUserId: v.userId }]),
  }));
  const send = (client, [clientMsgId, frame]) => client.send({ ...frame, clientMsgId });

  // First half, all in flight at once; the agent reads visitor 0 once its half is stored.
  const half = (list) => list.slice(0, list.length / 2);
  vs.forEach((v, i) => half(plan[i].said).forEach((m) => send(v, m)));
  plan.forEach((p) => half(p.replies).forEach((m) => send(a, m)));
  for (const [i, v] of vs.entries()) for (const [id] of half(plan[i].said)) await v.next(where(`ack ${id}`, (f) => f.type === 'ack' && f.clientMsgId === id));
  for (const p of plan) for (const [id] of half(p.replies)) await a.next(where(`ack ${id}`, (f) => f.type === 'ack' && f.clientMsgId === id));
  a.drain(); // nothing is in flight now: the next row of visitor 0 is the read's
  a.send({ type: 'read', userId: vs[0].userId });
  await a.next(rowFor(vs[0].userId, (u) => u.unread === 0));

  // Second half sent, and the runtime stopped while the desk is working through it: once the
  // agent has seen a few of its acks (so some are stored, and some certainly are not yet).
  const rest = (list) => list.slice(list.length / 2);
  vs.forEach((v, i) => rest(plan[i].said).forEach((m) => send(v, m)));
  plan.forEach((p) => rest(p.replies).forEach((m) => send(a, m)));
  const restIds = new Set(plan.flatMap((p) => rest(p.replies).map(([id]) => id)));
  await a.next(where('an ack of the second half', (f) => f.type === 'ack' && restIds.has(f.clientMsgId)));
  await runtime.dispose();

  const ackedBefore = new Map(); // clientMsgId -> { id, seq } acked by the evicted instance
  for (const [i, v] of vs.entries()) for (const [id] of plan[i].said) if (acked(v, id)) ackedBefore.set(id, acked(v, id));
  for (const p of plan) for (const [id] of p.replies) if (acked(a, id)) ackedBefore.set(id, acked(a, id));
  const total = VISITORS * (PER_VISITOR + REPLIES_EACH);
  assert.ok(ackedBefore.size < total, `the eviction came mid-burst (${ackedBefore.size} of ${total} acked before it)`);

  // A new instance on the same storage; every client comes back and resends what it has no ack for.
  runtime = await startMiniflare({ persistDir, bindings: BULK_LIMITS });
  const old = { a, vs };
  a = await admin(runtime.url, name);
  const back = [];
  for (const v of vs) back.push(await visitor(runtime.url, name, { token: v.token }));
  back.forEach((v, i) => plan[i].said.filter(([id]) => !ackedBefore.has(id)).forEach((m) => send(v, m)));
  plan.forEach((p) => p.replies.filter(([id]) => !ackedBefore.has(id)).forEach((m) => send(a, m)));
  // And one resend of something already acked, per client: answered with the original.
  back.forEach((v, i) => send(v, plan[i].said[0]));
  send(a, plan[0].replies[0]);
  for (const [i, v] of back.entries()) {
    for (const [id] of plan[i].said.filter(([id]) => !ackedBefore.has(id))) await v.next(where(`ack ${id}`, (f) => f.type === 'ack' && f.clientMsgId === id));
    const again = await v.next(where('the resend of an acked message', (f) => f.type === 'ack' && f.clientMsgId === plan[i].said[0][0]));
    assert.deepEqual([again.id, again.seq], [ackedBefore.get(plan[i].said[0][0]).id, ackedBefore.get(plan[i].said[0][0]).seq]);
  }
  for (const p of plan) for (const [id] of p.replies.filter(([id]) => !ackedBefore.has(id))) await a.next(where(`ack ${id}`, (f) => f.type === 'ack' && f.clientMsgId === id));
  const again = await a.next(where('the resend of an acked reply', (f) => f.type === 'ack' && f.clientMsgId === plan[0].replies[0][0]));
  assert.equal(again.id, ackedBefore.get(plan[0].replies[0][0]).id);

  // Stored: each conversation holds exactly what its visitor said and what was replied to it,
  // each once, and an ack given before the eviction names the message stored.
  for (const [i, v] of vs.entries()) {
    const { messages } = await history(a, v.userId, { limit: 200 });
    const said = messages.filter((m) => m.sender === 'user').map((m) => m.message);
    const replied = messages.filter((m) => m.sender === 'admin').map((m) => m.message);
    assert.deepEqual([...said].sort(), plan[i].said.map(([, f]) => f.message).sort(), `visitor ${i}: every message once`);
    assert.deepEqual([...replied].sort(), plan[i].replies.map(([, f]) => f.message).sort(), `visitor ${i}: every reply once`);
    for (const m of messages.filter((m) => m.clientMsgId && ackedBefore.has(m.clientMsgId))) {
      assert.deepEqual([m.id, m.seq], [ackedBefore.get(m.clientMsgId).id, ackedBefore.get(m.clientMsgId).seq]);
    }
    const seqs = messages.map((m) => m.seq);
    assert.equal(new Set(seqs).size, seqs.length, `visitor ${i}: no seq given twice`);
  }

  // Routed: no socket, before or after the eviction, got a message meant for another visitor.
  for (const [i, v] of [...old.vs.entries(), ...back.entries()]) {
    const own = (text) => text.startsWith(`from ${i} #`) || text.startsWith(`to ${i} #`);
    const wrong = seen(v, (f) => f.type === 'message' && !own(f.message));
    assert.deepEqual(wrong, [], `visitor ${i} got only its own conversation`);
  }

  // Unread: visitor 0 was read after its first half; the others never were.
  const users = await rows(runtime.url, name);
  const unread = vs.map((v) => users.find((r) => r.userId === v.userId)?.unread);
  assert.deepEqual(unread, vs.map((_, i) => (i === 0 ? PER_VISITOR / 2 : PER_VISITOR)));
  for (const c of [a, ...back]) await c.close();
});
