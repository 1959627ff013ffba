// Keep-alive and stale sockets: pings are answered without the desk; a socket that goes silent is
// closed by the desk's sweep and the sidebar's online dot follows; a pinging socket stays.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectAdmin, connectVisitor, deskName, startMiniflare, where } from '../helpers/desk.js';

const STALE_MS = 2000; // the production default is 75 s; the setting exists so this runs in seconds
let desk;

before(async () => {
  desk = await startMiniflare({ bindings: { SOCKET_STALE_MS: String(STALE_MS) } });
});
after(() => desk?.dispose());

test('ping is answered with pong', async () => {
  const v = await connectVisitor(desk.url, deskName('ping'));
  await v.next('welcome');
  v.sendRaw('{"type":"ping"}');
  await v.next('pong');
  await v.close();
});

test('a silent socket is swept and goes offline; a pinging one stays', async () => {
  const name = deskName('sweep');
  const admin = await connectAdmin(desk.url, name);
  await admin.next('users');
  const silent = await connectVisitor(desk.url, name);
  const gone = await silent.next('welcome');
  silent.send({ type: 'message', message: 'then I go quiet' });
  await silent.next('ack');
  const alive = await connectVisitor(desk.url, name);
  const stays = await alive.next('welcome');
  alive.send({ type: 'message', message: 'I keep pinging' });
  await alive.next('ack');

  // The widget's and the inbox's keep-alive, faster here to match the short limit: load, not
  // synchronisation. The admin pings as the inbox does; a silent one would be swept too (below),
  // possibly before the visitor's row could reach it.
  const keepAlive = setInterval(() => {
    alive.sendRaw('{"type":"ping"}');
    admin.sendRaw('{"type":"ping"}');
  }, STALE_MS / 4);
  try {
    const offline = await admin.next(
      where('silent visitor offline', (f) => f.type === 'user' && f.user.userId === gone.userId && f.user.online === false),
      { timeout: STALE_MS * 6 },
    );
    assert.equal(offline.user.unread, 1, 'the row is otherwise intact');
    const closed = await silent.closed;
    assert.equal(closed.code, 4000, 'closed by the sweep, with its code');
    assert.ok(alive.open, 'the pinging socket is still open');
    alive.send({ type: 'message', message: 'still here' });
    await alive.next('ack');
    await admin.expectNone(
      (f) => f.type === 'user' && f.user.userId === stays.userId && f.user.online === false,
      STALE_MS,
    );
  } finally {
    clearInterval(keepAlive);
    await alive.close();
    await admin.close();
  }
});

// See agents.test.js: the runtime ends a server-closed connection that never sent the object a frame
// only at eviction (the same before the team work). Todo tests report without failing the run.
const CLOSE_TODO = { todo: 'runtime keeps a server-closed socket that never sent a frame until eviction' };

test('a silent admin socket is swept too, and its close completes (the inbox reconnects on close)', CLOSE_TODO, async () => {
  const name = deskName('sweep-admin');
  const pinging = await connectAdmin(desk.url, name);
  await pinging.next('users');
  const silent = await connectAdmin(desk.url, name);
  await silent.next('users');
  const keepAlive = setInterval(() => pinging.sendRaw('{"type":"ping"}'), STALE_MS / 4);
  try {
    // The whole close, not only the close frame: a browser fires onclose only once the connection ends.
    const closed = await Promise.race([silent.closed, new Promise((r) => setTimeout(() => r('not closed'), STALE_MS * 6))]);
    assert.equal(closed.code, 4000, `closed by the sweep with its code: ${JSON.stringify(closed)} (readyState ${silent.ws.readyState})`);
    assert.ok(pinging.open, 'the pinging admin stays');
  } finally {
    clearInterval(keepAlive);
    await pinging.close();
  }
});

test('a silent visitor who never wrote is swept too, and its close completes', CLOSE_TODO, async () => {
  const name = deskName('sweep-quiet');
  const pinging = await connectAdmin(desk.url, name);
  await pinging.next('users');
  const silent = await connectVisitor(desk.url, name);
  await silent.next('welcome');
  const keepAlive = setInterval(() => pinging.sendRaw('{"type":"ping"}'), STALE_MS / 4);
  try {
    const closed = await Promise.race([silent.closed, new Promise((r) => setTimeout(() => r('not closed'), STALE_MS * 6))]);
    assert.equal(closed.code, 4000, `closed by the sweep with its code: ${JSON.stringify(closed)} (readyState ${silent.ws.readyState})`);
  } finally {
    clearInterval(keepAlive);
    await pinging.close();
  }
});
