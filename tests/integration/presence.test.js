// Presence in the admin's `users` frame and in `list` pages never goes stale: the desk remembers
// what the runtime said about each visitor's sockets per awake instance (src/presence.rs), and
// forgets a visitor whenever one of its sockets opens, closes or is closed by the desk. A new
// instance (eviction) remembers nothing and asks the runtime again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { STARTED_LINE, deskName, startMiniflare } from '../helpers/desk.js';
import { admin, closeAll, eventFor, listAll, rowFor, rowOf, rows, say, visitor } from './flows.js';

// workerd evicts an idle object with only hibernatable sockets after about 10 s.
const IDLE_MS = 15_000;

let desk;
// Its own runtime, so every "desk object started" line is this test's desk.
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

const online = (users, v) => rowOf(users, v.userId)?.online;

test('presence in the next users frame follows closes, new visitors and reconnects after it was remembered', async () => {
  const name = deskName('presence-memo');
  const A = await visitor(desk.url, name);
  const B = await visitor(desk.url, name);
  await say(A, 'A here');
  await say(B, 'B here');
  // The first snapshot: both asked of the runtime and remembered online.
  const a = await admin(desk.url, name);
  assert.deepEqual([online(a.users, A), online(a.users, B)], [true, true]);
  assert.deepEqual([online(await rows(desk.url, name), A), online(await rows(desk.url, name), B)], [true, true]);

  // B closes: the next admin's users frame says so (it was remembered online).
  await B.close();
  await a.next(rowFor(B.userId, (u) => u.online === false));
  let users = await rows(desk.url, name);
  assert.deepEqual([online(users, A), online(users, B)], [true, false], 'a visitor that closed is offline');

  // C connects after the desk remembered everyone it listed: online in the next frame.
  const C = await visitor(desk.url, name);
  await say(C, 'C here');
  users = await rows(desk.url, name);
  assert.deepEqual([online(users, A), online(users, B), online(users, C)], [true, false, true], 'a new visitor is online');

  // B comes back (remembered offline): online again; `list` agrees with `users`.
  const B2 = await visitor(desk.url, name, { token: B.token });
  await a.next(rowFor(B.userId, (u) => u.online === true));
  users = await rows(desk.url, name);
  assert.equal(online(users, B), true, 'a returning visitor is online');
  const listed = (await listAll(a, 'all')).rows;
  assert.deepEqual([A, B, C].map((v) => online(listed, v)), [true, true, true], 'list pages agree');

  // A dropped without a close handshake: offline once the runtime tells the desk.
  A.ws.terminate();
  await a.next(rowFor(A.userId, (u) => u.online === false), { timeout: 10_000 });
  assert.equal(online(await rows(desk.url, name), A), false, 'a dropped visitor is offline');
  await closeAll(a, B2, C);
});

test('a visitor the desk blocks (its sockets closed by the desk) is offline in the blocked list', async () => {
  const name = deskName('presence-block');
  const V = await visitor(desk.url, name);
  await say(V, 'spam');
  const a = await admin(desk.url, name);
  assert.equal(online(a.users, V), true);
  assert.equal(online((await listAll(a, 'all')).rows, V), true);
  a.send({ type: 'block', userId: V.userId });
  await a.next(eventFor(V.userId, 'blocked'));
  assert.equal((await V.closed).code, 4003);
  assert.equal(online((await listAll(a, 'blocked')).rows, V), false, 'offline once the desk closed its sockets');
  await a.close();
});

test('after the object is evicted, presence comes from the runtime again: open sockets online, closed ones not',
  { timeout: 60_000 }, async () => {
    const name = deskName('presence-evict');
    const A = await visitor(desk.url, name);
    const B = await visitor(desk.url, name);
    await say(A, 'A stays');
    await say(B, 'B leaves');
    const a = await admin(desk.url, name);
    assert.deepEqual([online(a.users, A), online(a.users, B)], [true, true]);
    await B.close();
    await a.next(rowFor(B.userId, (u) => u.online === false));
    await a.close();

    // Idle past eviction with A's socket open (hibernated), then a new admin wakes a new instance.
    A.drain();
    await A.expectNone(() => true, IDLE_MS);
    const mark = desk.logs.lines.length;
    const w = await admin(desk.url, name);
    await desk.waitForLog(STARTED_LINE, { since: mark, timeout: 10_000 }); // a new instance answered
    assert.deepEqual([online(w.users, A), online(w.users, B)], [true, false], 'the new instance asked the runtime');

    // The new instance remembers A online now; A closes: the next frame says offline.
    await A.close();
    await w.next(rowFor(A.userId, (u) => u.online === false));
    assert.equal(online(await rows(desk.url, name), A), false, 'closed after the wake: offline');
    await w.close();
  });
