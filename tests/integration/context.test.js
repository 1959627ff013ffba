// Who and where, in workerd: a visitor's page report stored and shown in the `users` and `user`
// rows after a restart, browser and OS from the upgrade's User-Agent, the live `context` frame to
// agents only, bad fields refused with nothing stored, a verified visitor's attributes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startMiniflare, deskName, tempDir, userHash } from '../helpers/desk.js';
import { admin, closeAll, errorFor, rowFor, rowOf, say, visitor, where } from './flows.js';

let runtime;
after(async () => { await runtime?.dispose(); });

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const page = (url, extra = {}) => ({
  type: 'context', url, title: 'Pricing · Acme', referrer: 'https://news.example/issue-12',
  language: 'de-DE', timeZone: 'Europe/Berlin', ...extra,
});
const contextOf = (userId, check = () => true) =>
  where(`context of ${userId}`, (f) => f.type === 'context' && f.userId === userId && check(f));

/** What an agent is told of `userId` when it asks. */
async function asked(a, userId) {
  a.send({ type: 'context', userId });
  return a.next(contextOf(userId));
}

test('a context is stored, shown in users and user rows after a restart, and reaches agents only', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-context-');
  const name = deskName('context');
  runtime = await startMiniflare({ persistDir });
  const a = await admin(runtime.url, name);
  const A = await visitor(runtime.url, name, { headers: { 'User-Agent': IPHONE } });
  const B = await visitor(runtime.url, name);
  await say(A, 'hello from the pricing page');
  await say(B, 'hello from B');
  A.send(page('https://shop.example/pricing?utm_source=newsletter'));
  const live = await a.next(contextOf(A.userId));
  assert.equal(live.url, 'https://shop.example/pricing?utm_source=newsletter');
  assert.deepEqual([live.title, live.referrer, live.language, live.timeZone],
    ['Pricing · Acme', 'https://news.example/issue-12', 'de-DE', 'Europe/Berlin']);
  assert.deepEqual([live.browser, live.os, live.visits], ['Safari 17', 'iOS', 1]);
  assert.deepEqual(live.pages.map((p) => p.url), ['https://shop.example/pricing?utm_source=newsletter']);
  assert.ok(live.firstSeen > 0 && live.visitStarted >= live.firstSeen);
  A.send(page('https://shop.example/checkout', { title: 'Checkout' }));
  assert.equal((await a.next(contextOf(A.userId))).pages.length, 2);
  // no visitor hears of it: not the one who reported, not another
  await A.expectNone(where('a context frame', (f) => f.type === 'context'), 300);
  await B.expectNone(where('a context frame', (f) => f.type === 'context'), 100);
  await closeAll(a, A, B);
  await runtime.dispose();

  runtime = await startMiniflare({ persistDir });
  const a2 = await admin(runtime.url, name);
  const row = rowOf(a2.users, A.userId);
  assert.equal(row.context.url, 'https://shop.example/checkout', 'the users row carries the context after a restart');
  assert.deepEqual([row.context.title, row.context.browser, row.context.os, row.context.timeZone],
    ['Checkout', 'Safari 17', 'iOS', 'Europe/Berlin']);
  assert.equal(row.context.pages, undefined, 'rows leave the pages out');
  assert.ok(!rowOf(a2.users, B.userId).context.url, 'B reported no page');
  // the visitor comes back (soon: the same visit): the presence row carries the context too
  const back = await visitor(runtime.url, name, { token: A.token, headers: { 'User-Agent': IPHONE } });
  const online = await a2.next(rowFor(A.userId, (u) => u.online));
  assert.deepEqual([online.user.context.url, online.user.context.visits], ['https://shop.example/checkout', 1]);
  const full = await asked(a2, A.userId);
  assert.deepEqual(full.pages.map((p) => p.title), ['Pricing · Acme', 'Checkout'], 'the visit\'s pages survive too');
  await closeAll(a2, back);
});

test('bad fields are refused with bad_frame and nothing is stored; no visitor writes another\'s context', { timeout: 60_000 }, async () => {
  await runtime?.dispose();
  runtime = await startMiniflare();
  const name = deskName('context-bad');
  const a = await admin(runtime.url, name);
  const A = await visitor(runtime.url, name);
  const B = await visitor(runtime.url, name);
  await say(A, 'hi');
  await say(B, 'hi');
  B.send(page('https://shop.example/b'));
  await a.next(contextOf(B.userId));
  A.send(page('https://shop.example/a'));
  await a.next(contextOf(A.userId));
  const bad = [
    { url: 'javascript:alert(1)' }, { url: 'https://shop.example/' + 'x'.repeat(2048) }, { url: '/relative' },
    { title: 'x'.repeat(301) }, { referrer: 'data:text/html,hi' }, { language: 'not a tag' },
    { timeZone: '../../etc/passwd' }, { timeZone: 'Europe/Berlin'.repeat(6) }, { attributes: { plan: 'pro' } },
  ];
  for (const fields of bad) {
    A.drain();
    A.send(page('https://shop.example/ok', fields));
    const error = await A.next(where('an error', (f) => f.type === 'error'));
    assert.equal(error.code, fields.attributes ? 'forbidden' : 'bad_frame', JSON.stringify(fields));
  }
  A.send(page('https://evil.example/', { userId: B.userId }));
  assert.equal((await A.next(errorFor('forbidden'))).code, 'forbidden');
  await a.expectNone(where('a context frame', (f) => f.type === 'context'), 300);
  assert.equal((await asked(a, A.userId)).url, 'https://shop.example/a', 'A\'s context untouched');
  assert.equal((await asked(a, B.userId)).url, 'https://shop.example/b', 'B\'s context untouched');
  await closeAll(a, A, B);
});

test('a verified visitor\'s attributes reach agents, bounded', { timeout: 60_000 }, async () => {
  await runtime?.dispose();
  runtime = await startMiniflare({ bindings: { IDENTITY_SECRET: 'test-identity-secret-0123456789' } });
  const name = deskName('context-verified');
  const a = await admin(runtime.url, name);
  const V = await visitor(runtime.url, name, { identity: { userId: 'customer-42', userHash: userHash(name, 'customer-42') } });
  await say(V, 'logged in');
  V.send(page('https://app.example/billing', { attributes: { plan: 'pro', seats: 12 } }));
  const got = await a.next(contextOf(V.userId));
  assert.deepEqual(got.attributes, { plan: 'pro', seats: 12 });
  const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i]));
  V.send(page('https://app.example/billing', { attributes: tooMany }));
  assert.equal((await V.next(errorFor('bad_frame'))).code, 'bad_frame');
  assert.deepEqual((await asked(a, V.userId)).attributes, { plan: 'pro', seats: 12 });
  await closeAll(a, V);
});
