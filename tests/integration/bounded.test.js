// Bounded storage in workerd: a desk over its budget refuses new visitor messages (storage_full)
// and tells its admins while agents still reply; retention deletes the untouched conversations
// (and visitors who never wrote) with their search entries, by the desk's own alarm; seqs of
// deleted messages are never given again, even after a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BULK_LIMITS, connectAdmin, deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, cid, closeAll, history, refusal, removedOf, reply, rows, say, search, visitor, where } from './flows.js';

const checkToken = (url, name, token) =>
  fetch(`${url}/desks/${name}/visitor/check`, { method: 'POST', body: JSON.stringify({ token }) }).then((r) => r.status);

test('over its storage budget a desk refuses visitor messages with storage_full, tells admins, and agents still reply', async () => {
  const desk = await startMiniflare({ bindings: { ...BULK_LIMITS, STORAGE_BUDGET_MB: '0.5' } });
  try {
    const name = deskName('budget');
    const owner = await admin(desk.url, name);
    const v = await visitor(desk.url, name);
    const big = 'lorem ipsum dolor '.repeat(220); // about 4,000 characters
    let refused = null;
    let acked = 0;
    while (!refused && acked < 400) {
      const clientMsgId = cid('fill');
      v.send({ type: 'message', message: `${acked} ${big}`, clientMsgId });
      const answer = await v.next(where(`answer to ${clientMsgId}`, (f) => f.clientMsgId === clientMsgId), { timeout: 10_000 });
      if (answer.type === 'ack') acked += 1;
      else refused = answer;
    }
    assert.ok(refused, `refused before 400 messages of 4 KB into half a MiB (acked ${acked})`);
    assert.equal(refused.code, 'storage_full');
    assert.ok(acked > 10, `the budget let messages in first (acked ${acked})`);
    const told = await owner.next('storage');
    assert.equal(told.full, true);
    assert.equal(told.budgetBytes, 512 * 1024);
    assert.ok(told.usedBytes >= told.budgetBytes, JSON.stringify(told));

    // Nothing stored for the refusal; a new inbox is told at once; agents still reply.
    const { messages } = await history(owner, v.userId, { limit: 1 });
    assert.ok(messages[0].message.startsWith(`${acked - 1} `), 'the last stored is the last acked');
    const late = await connectAdmin(desk.url, name);
    await late.next('users');
    assert.equal((await late.next('storage')).full, true, 'an inbox opening while full is told');
    await reply(owner, v.userId, 'we are making room');
    const again = await refusal(v, { type: 'message', message: 'still full?', clientMsgId: cid('again') });
    assert.equal(again.code, 'storage_full');

    // Deleting frees room: a new visitor writes again.
    owner.send({ type: 'delete', userId: v.userId });
    await owner.next(removedOf(v.userId));
    const w = await visitor(desk.url, name);
    await say(w, 'room again');
    await closeAll(owner, late, w);
  } finally {
    await desk.dispose();
  }
});

test('retention: the desk deletes the untouched conversation and the visitor who never wrote, with their search entries, keeping the rest', async () => {
  // Retention of 4 seconds (RETENTION_DAYS accepts decimals); sweeps every 2 s so the alarm runs.
  const desk = await startMiniflare({ bindings: { RETENTION_DAYS: String(4 / 86_400), SOCKET_STALE_MS: '5000' } });
  let alive;
  try {
    const name = deskName('retention');
    const owner = await admin(desk.url, name);
    const idle = await visitor(desk.url, name);
    await idle.close();
    const old = await visitor(desk.url, name);
    await say(old, 'an ancient quasarword');
    await old.close();
    const kept = await visitor(desk.url, name);
    await say(kept, 'a recent message');
    // Keeping the other conversation touched and the inbox's socket alive while the desk's
    // alarm does its work: not a synchronisation, the test waits for the desk's `removed`.
    let n = 0;
    alive = setInterval(() => {
      kept.send({ type: 'message', message: `still here ${n += 1}` });
      owner.ws.send('{"type":"ping"}');
    }, 700);
    await owner.next(removedOf(old.userId), { timeout: 20_000 });
    clearInterval(alive);

    assert.deepEqual((await search(owner, 'quasarword')).results, [], 'its search entries went with it');
    assert.equal((await refusal(owner, { type: 'history', userId: old.userId })).code, 'unknown_user');
    assert.equal(await checkToken(desk.url, name, old.token), 401);
    assert.equal(await checkToken(desk.url, name, idle.token), 401, 'the visitor who never wrote went too');
    assert.equal(await checkToken(desk.url, name, kept.token), 204, 'the touched one stays');
    assert.deepEqual((await rows(desk.url, name)).map((r) => r.userId), [kept.userId]);
    await closeAll(owner, kept);
  } finally {
    clearInterval(alive);
    await desk.dispose();
  }
});

test('a deleted conversation holding the newest messages never lowers the next seq, even after a restart', async () => {
  const persistDir = tempDir('desk-persist-floor-');
  let desk = await startMiniflare({ persistDir });
  const name = deskName('floor');
  let owner = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'one');
  const newest = await say(v, 'two');
  owner.send({ type: 'delete', userId: v.userId });
  await owner.next(removedOf(v.userId));
  await closeAll(owner);
  await desk.dispose();

  desk = await startMiniflare({ persistDir });
  try {
    owner = await admin(desk.url, name);
    assert.ok(owner.snapshot.seq >= newest.seq, `users.seq ${owner.snapshot.seq} keeps ${newest.seq}`);
    const w = await visitor(desk.url, name);
    const next = await say(w, 'after a restart');
    assert.ok(next.seq > newest.seq, `seq ${next.seq} after ${newest.seq}`);
    await closeAll(owner, w);
  } finally {
    await desk.dispose();
  }
});
