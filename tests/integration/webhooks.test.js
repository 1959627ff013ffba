// Webhooks in workerd, delivered to a real HTTP server this test runs on 127.0.0.1: signed with
// the endpoint's secret (recomputed here), retried by the alarm after the receiver answers 500
// twice (same event id), in order per conversation while retrying, Slack-shaped for a Slack
// endpoint, managed by the owner and admins only, a bad URL refused with nothing stored, and never
// lost across a SIGKILL of the runtime (wrangler dev on the same storage); a full outbox drops the
// new event, logged; conversation.unanswered from the same detection as the email alerts, with
// email off.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare, startWranglerDev, tempDir, where } from '../helpers/desk.js';
import { admin, agentSocket, newAgent, reply, say, visitor } from './flows.js';

const VARS = { WEBHOOKS_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '20' };
const ALL = ['conversation.created', 'message.created', 'conversation.unanswered', 'conversation.resolved'];

/** A receiver: records every request (`got`), answers with what `answer(entry)` says (a status,
 *  or a promise of one), and lets a test wait until n requests match a check. */
async function receiver(answer = () => 200) {
  const got = [];
  const waiters = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      // Recorded on arrival (status still unknown), and again once answered.
      const entry = { path: req.url, headers: req.headers, body, json: JSON.parse(body), status: undefined };
      got.push(entry);
      for (const w of [...waiters]) w();
      entry.status = await answer(entry);
      for (const w of [...waiters]) w();
      res.writeHead(entry.status, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  /** Resolves with the requests once `count` of them satisfy `check`. */
  const until = (check, count = 1, timeout = 15_000) => new Promise((resolve, reject) => {
    const look = () => {
      const hits = got.filter(check);
      if (hits.length < count) return;
      waiters.delete(look);
      clearTimeout(timer);
      resolve(hits);
    };
    const timer = setTimeout(() => {
      waiters.delete(look);
      reject(new Error(`timed out waiting for ${count} request(s); got ${JSON.stringify(got.map((g) => [g.status, g.json.type ?? g.json.text]))}`));
    }, timeout);
    waiters.add(look);
    look();
  });
  return { got, url, until, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const sign = (secret, body) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Owner/admin `a` saves an endpoint; resolves with the `webhooks` frame (or the error). */
function save(a, frame) {
  a.send({ type: 'webhook_save', ...frame });
  return a.next(where('webhooks or error', (f) => f.type === 'webhooks' || f.type === 'error'));
}

let runtime;
before(async () => { runtime = await startMiniflare({ bindings: VARS }); });
after(async () => { await runtime?.dispose(); });

test('deliveries are signed with the endpoint secret and carry a stable event id', async () => {
  const rx = await receiver();
  const desk = deskName('hook');
  const a = await admin(runtime.url, desk);
  const saved = await save(a, { url: rx.url, events: ALL });
  assert.equal(saved.type, 'webhooks', JSON.stringify(saved));
  const [endpoint] = saved.endpoints;
  assert.match(endpoint.secret, /^whsec_[0-9a-f]{64}$/);
  assert.deepEqual(endpoint.events, ALL);

  const v = await visitor(runtime.url, desk);
  await say(v, 'hello, anyone?');
  const [created, message] = await rx.until((r) => r.status === 200, 2);
  assert.deepEqual([created.json.type, message.json.type], ['conversation.created', 'message.created'], 'in order');
  for (const r of [created, message]) {
    assert.equal(r.headers['x-signature'], sign(endpoint.secret, r.body), 'HMAC-SHA256 of the exact body');
    assert.equal(r.headers['x-event-id'], r.json.id);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.json.desk, desk);
    assert.equal(r.json.conversation.userId, v.userId);
    assert.equal(r.json.message.text, 'hello, anyone?');
  }
  assert.notEqual(created.json.id, message.json.id);

  a.send({ type: 'resolve', userId: v.userId });
  const [resolved] = await rx.until((r) => r.json.type === 'conversation.resolved');
  assert.equal(resolved.json.agent.id, 'owner');
  assert.equal(resolved.headers['x-signature'], sign(endpoint.secret, resolved.body));

  a.send({ type: 'webhooks' });
  const list = await a.next(where('webhooks', (f) => f.type === 'webhooks'));
  assert.equal(list.endpoints[0].pending, 0);
  assert.deepEqual(list.log.map((l) => [l.event, l.status, l.code, l.attempts]), [
    ['conversation.resolved', 'delivered', 200, 1],
    ['message.created', 'delivered', 200, 1],
    ['conversation.created', 'delivered', 200, 1],
  ], 'the log, newest first');
  await Promise.all([a.close(), v.close(), rx.close()]);
});

test('500 twice then 200: delivered on the third attempt, same event id, and later events wait their turn', async () => {
  let failures = 0;
  const rx = await receiver((r) => (r.json.type === 'conversation.created' && failures++ < 2 ? 500 : 200));
  const desk = deskName('hook');
  const a = await admin(runtime.url, desk);
  await save(a, { url: rx.url, events: ['conversation.created', 'message.created'] });
  const v = await visitor(runtime.url, desk);
  await say(v, 'one');
  await say(v, 'two');
  await say(v, 'three');
  await rx.until((r) => r.status === 200, 4);
  const seen = rx.got.map((r) => [r.json.type, r.json.message.text, r.status]);
  assert.deepEqual(seen, [
    ['conversation.created', 'one', 500],
    ['conversation.created', 'one', 500],
    ['conversation.created', 'one', 200],
    ['message.created', 'one', 200],
    ['message.created', 'two', 200],
    ['message.created', 'three', 200],
  ], 'the conversation\'s later events waited for the retried one');
  const ids = rx.got.slice(0, 3).map((r) => r.headers['x-event-id']);
  assert.equal(new Set(ids).size, 1, 'every attempt carries the same event id');

  a.send({ type: 'webhooks' });
  const list = await a.next(where('webhooks', (f) => f.type === 'webhooks'));
  const created = list.log.filter((l) => l.event === 'conversation.created').reverse();
  assert.deepEqual(created.map((l) => [l.status, l.code, l.attempts]),
    [['retrying', 500, 1], ['retrying', 500, 2], ['delivered', 200, 3]]);
  await Promise.all([a.close(), v.close(), rx.close()]);
});

test('a Slack endpoint gets {"text"}; a 4xx refusal is given up at once', async () => {
  const slack = await receiver();
  const gone = await receiver(() => 410);
  const desk = deskName('hook');
  const a = await admin(runtime.url, desk);
  await save(a, { url: slack.url, events: ['message.created'], format: 'slack' });
  await save(a, { url: gone.url, events: ['message.created'] });
  const v = await visitor(runtime.url, desk);
  await say(v, 'is <this> on?');
  const [[s], [g]] = await Promise.all([slack.until(() => true), gone.until(() => true)]);
  assert.deepEqual(Object.keys(s.json), ['text']);
  assert.match(s.json.text, /wrote on .*: is &lt;this&gt; on\?$/);
  assert.equal(g.status, 410);
  a.send({ type: 'webhooks' });
  const list = await a.next(where('webhooks with the failure', (f) => f.type === 'webhooks'));
  const failed = list.log.find((l) => l.code === 410);
  assert.deepEqual([failed?.status, failed?.attempts], ['failed', 1], 'not retried');
  assert.equal(gone.got.length, 1);
  await Promise.all([a.close(), v.close(), slack.close(), gone.close()]);
});

test('agents may not manage webhooks; a bad URL is refused and nothing is stored', async () => {
  const desk = deskName('hook');
  const a = await admin(runtime.url, desk);
  const ana = await newAgent(runtime.url, desk, a);
  const s = await agentSocket(runtime.url, desk, ana);
  for (const frame of [{ type: 'webhooks' }, { type: 'webhook_save', url: 'https://example.com/h', events: ['message.created'] },
    { type: 'webhook_delete', id: 'x' }]) {
    s.send(frame);
    const err = await s.next(where('error', (f) => f.type === 'error'));
    assert.equal(err.code, 'forbidden', JSON.stringify(frame));
  }
  for (const url of ['http://example.com/hook', 'ftp://example.com', 'not a url']) {
    const err = await save(a, { url, events: ['message.created'] });
    assert.equal(err.code, 'bad_webhook_url', url);
    assert.match(err.message, /https:\/\//);
  }
  a.send({ type: 'webhooks' });
  const list = await a.next(where('webhooks', (f) => f.type === 'webhooks'));
  assert.deepEqual(list, { type: 'webhooks', endpoints: [], log: [] });
  await Promise.all([a.close(), s.close()]);
});

test('never lost across a SIGKILL of the runtime: delivered after the restart, same event id', { timeout: 180_000 }, async () => {
  // The receiver holds the first attempt unanswered until the runtime is killed.
  let release;
  const held = new Promise((r) => { release = r; });
  let first = true;
  const rx = await receiver(async () => {
    if (!first) return 200;
    first = false;
    await held;
    return 200; // too late: the runtime that asked is gone
  });
  const dir = tempDir('desk-hook-kill-');
  let wd = await startWranglerDev({ persistDir: dir, vars: VARS });
  const desk = deskName('hook');
  try {
    const a = await admin(wd.url, desk);
    await save(a, { url: rx.url, events: ['message.created'] });
    const v = await visitor(wd.url, desk);
    await say(v, 'acked, then the power goes');
    const [attempt] = await rx.until(() => true);
    await wd.kill();
    release();
    wd = await startWranglerDev({ persistDir: dir, port: wd.port, vars: VARS });
    const delivered = await rx.until((r) => r !== attempt, 1, 60_000);
    assert.equal(delivered[0].headers['x-event-id'], attempt.headers['x-event-id'], 'the same event, at least once');
    assert.equal(delivered[0].json.message.text, 'acked, then the power goes');
    assert.equal(new Set(rx.got.map((r) => r.headers['x-event-id'])).size, 1, 'duplicates only of that one event');
  } finally {
    await wd.stop();
    await rx.close();
  }
});

test('conversation.unanswered: sent once a visitor waits past the rule, with email off; not for a conversation answered or resolved', async () => {
  // Its own runtime: the rule is made tiny here (the other tests must see only the events they cause).
  const rt = await startMiniflare({ bindings: { ...VARS, UNANSWERED_MS: '300' } });
  const rx = await receiver();
  try {
    const desk = deskName('hook');
    const a = await admin(rt.url, desk);
    const saved = await save(a, { url: rx.url, events: ['conversation.unanswered'] });
    const secret = saved.endpoints[0].secret;
    const answered = await visitor(rt.url, desk, { name: 'Answered' });
    await say(answered, 'hello?');
    await reply(a, answered.userId, 'Hi! Right here.');
    const resolved = await visitor(rt.url, desk, { name: 'Resolved' });
    await say(resolved, 'never mind, found it');
    a.send({ type: 'resolve', userId: resolved.userId });
    await a.next(where('resolved', (f) => f.type === 'user' && f.user?.userId === resolved.userId && f.user.status === 'resolved'));
    const waiting = await visitor(rt.url, desk, { name: 'Waiting' });
    const sent = await say(waiting, 'anyone there?');
    const [hook] = await rx.until((r) => r.json.type === 'conversation.unanswered');
    assert.equal(hook.json.conversation.userId, waiting.userId);
    assert.equal(hook.headers['x-signature'], sign(secret, hook.body));
    assert.ok(hook.json.waitingSince >= sent.at - 1000, JSON.stringify(hook.json));
    // The two others waited longer and would have been due first: none of them was reported.
    assert.deepEqual(rx.got.map((r) => r.json.conversation.userId), [waiting.userId]);
    await Promise.all([a.close(), answered.close(), resolved.close(), waiting.close()]);
  } finally {
    await rx.close();
    await rt.dispose();
  }
});

test('a full outbox: the new event is dropped for that endpoint, logged, and the older ones keep their place', async () => {
  const rx = await receiver(() => 500);
  // Two may wait; a retry only after a minute, so nothing leaves the outbox during the test.
  const small = await startMiniflare({ bindings: { ...VARS, WEBHOOK_MAX_PENDING: '2', WEBHOOK_RETRY_BASE_MS: '60000' } });
  try {
    const desk = deskName('hook');
    const a = await admin(small.url, desk);
    await save(a, { url: rx.url, events: ['conversation.created', 'message.created'] });
    const v = await visitor(small.url, desk);
    await say(v, 'one'); // conversation.created + message.created: 2 waiting
    await say(v, 'two'); // dropped
    await small.logs.waitFor('not queued');
    a.send({ type: 'webhooks' });
    const list = await a.next(where('webhooks', (f) => f.type === 'webhooks'));
    assert.equal(list.endpoints[0].pending, 2);
    const dropped = list.log.filter((l) => l.status === 'dropped');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0].event, 'message.created');
    assert.match(dropped[0].error, /outbox full/);
    await rx.until(() => true);
    assert.deepEqual(rx.got.map((r) => [r.json.type, r.json.message.text]), [['conversation.created', 'one']], 'the oldest goes first');
    await Promise.all([a.close(), v.close()]);
  } finally {
    await small.dispose();
    await rx.close();
  }
});
