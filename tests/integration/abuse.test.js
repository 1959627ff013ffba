// Origins and abuse limits: ALLOWED_ORIGINS for visitor sockets, token buckets, a flood that does not
// hold up anyone else, new visitors per address, sockets per visitor (more in limits.test.js).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare, upgradeStatus } from '../helpers/desk.js';
import { ackFor, admin, cid, closeAll, history, messageWith, say, visitor, where } from './flows.js';

const SITE = 'https://shop.example';
// One token per 5 s and a burst of 5: a burst of frames sent at once meets exactly 5 tokens.
const SLOW = { VISITOR_FRAMES_PER_SEC: '0.2', VISITOR_FRAME_BURST: '5' };
let desk;
before(async () => {
  desk = await startMiniflare({
    bindings: { ALLOWED_ORIGINS: `${SITE}, https://*.acme.example`, ...SLOW, NEW_VISITORS_PER_IP: '3', NEW_VISITORS_PER_MIN: '0.2', SOCKETS_PER_VISITOR: '2' },
  });
});
after(async () => { await desk?.dispose(); });

const rateLimited = where('rate_limited error', (f) => f.type === 'error' && f.code === 'rate_limited');

test('visitor sockets and token checks accept only configured origins (and none by default)', async () => {
  const name = deskName('origins');
  const path = `/desks/${name}/visitor`;
  // Each accepted probe creates a visitor: a fresh address each, clear of NEW_VISITORS_PER_IP.
  let n = 0;
  const probe = (origin) => upgradeStatus(desk.url, path, { 'CF-Connecting-IP': `192.0.2.${(n += 1)}`, ...(origin ? { Origin: origin } : {}) });
  for (const origin of [SITE, 'https://eu.acme.example', desk.url]) {
    assert.equal((await probe(origin)).status, 101, origin);
  }
  assert.equal((await probe()).status, 101, 'no Origin: not a browser page');
  for (const origin of ['https://evil.example', 'http://shop.example', 'https://shop.example.evil', 'https://acme.example', 'null']) {
    const res = await probe(origin);
    assert.equal(res.status, 403, origin);
    assert.equal(res.body.code, 'forbidden_origin');
  }
  const check = await fetch(`${desk.url}/desks/${name}/visitor/check`, {
    method: 'POST', headers: { Origin: 'https://evil.example' }, body: JSON.stringify({ token: 'x' }),
  });
  assert.equal(check.status, 403);

  // No ALLOWED_ORIGINS at all (a production deploy that forgot it): the desk's own pages only.
  const bare = await startMiniflare();
  try {
    assert.equal((await upgradeStatus(bare.url, path, { Origin: SITE })).status, 403);
    assert.equal((await upgradeStatus(bare.url, path, { Origin: bare.url })).status, 101);
  } finally {
    await bare.dispose();
  }
});

test('a socket over its rate gets rate_limited with retryAfterMs; nothing of it is stored; later it may send', async () => {
  const name = deskName('bucket');
  const inbox = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  const ids = Array.from({ length: 12 }, () => cid('burst'));
  for (const [i, clientMsgId] of ids.entries()) v.send({ type: 'message', message: `burst ${i}`, clientMsgId });
  const answers = [];
  for (let i = 0; i < ids.length; i += 1) {
    answers.push(await v.next(where('ack or error', (f) => ['ack', 'error'].includes(f.type) && ids.includes(f.clientMsgId))));
  }
  const acked = answers.filter((f) => f.type === 'ack');
  const limited = answers.filter((f) => f.type === 'error');
  assert.equal(acked.length, 5, 'the burst passes');
  assert.equal(limited.length, 7);
  for (const f of limited) {
    assert.equal(f.code, 'rate_limited');
    assert.ok(f.retryAfterMs > 0 && f.retryAfterMs <= 5000, `retryAfterMs ${f.retryAfterMs}`);
  }
  const stored = (await history(inbox, v.userId)).messages.map((m) => m.clientMsgId);
  assert.deepEqual(stored.sort(), acked.map((f) => f.clientMsgId).sort(), 'refused frames stored nothing');

  // The error says when: after that, the same message goes through (idempotent by clientMsgId).
  const again = limited[0];
  await new Promise((resolve) => setTimeout(resolve, again.retryAfterMs)); // the protocol's own wait
  v.send({ type: 'message', message: 'burst retried', clientMsgId: again.clientMsgId });
  await v.next(ackFor(again.clientMsgId));
  await closeAll(inbox, v);
});

test('a flood from one visitor does not hold up the others: their messages are stored and acked', async () => {
  const name = deskName('flood');
  const inbox = await admin(desk.url, name);
  const flooder = await visitor(desk.url, name);
  const [b, c] = [await visitor(desk.url, name), await visitor(desk.url, name)];
  const limited = [];
  const flood = (n) => { for (let i = 0; i < n; i += 1) flooder.send({ type: 'message', message: `spam ${i}`, clientMsgId: cid('spam') }); };
  flood(1500);
  // B and C write while the flood is in flight, and again after more of it.
  const first = await Promise.all([say(b, 'B: my order is late'), say(c, 'C: wrong size')]);
  flood(1500);
  const second = await Promise.all([say(b, 'B: order 1234'), say(c, 'C: can I swap it?')]);
  assert.equal(first.length + second.length, 4);
  for (const text of ['B: my order is late', 'C: wrong size', 'B: order 1234', 'C: can I swap it?']) {
    await inbox.next(messageWith(text));
  }
  // The flooder got its burst and a refusal for the rest; the desk stored only the burst.
  for (let i = 0; i < 20; i += 1) limited.push(await flooder.next(rateLimited));
  const stored = (await history(inbox, flooder.userId, { limit: 200 })).messages;
  assert.ok(stored.length >= 5 && stored.length <= 7, `stored ${stored.length} of 3000 flood frames`);
  assert.ok(flooder.open, 'the flooding socket is refused frame by frame, not dropped');
  await closeAll(inbox, flooder, b, c);
});

test('new visitors per address are limited (3 at once, then one per 5 minutes); returning visitors and other addresses are not', async () => {
  const name = deskName('births');
  const path = `/desks/${name}/visitor`;
  const from = (ip) => ({ 'CF-Connecting-IP': ip });
  const tokens = [];
  for (let i = 0; i < 3; i += 1) {
    const v = await visitor(desk.url, name, { headers: from('203.0.113.7') });
    tokens.push(v.token);
    await v.close();
  }
  const refused = await upgradeStatus(desk.url, path, from('203.0.113.7'));
  assert.equal(refused.status, 429);
  assert.equal(refused.body.code, 'rate_limited');
  assert.ok(refused.body.retryAfterMs > 0 && refused.body.retryAfterMs <= 300_000, `retryAfterMs ${refused.body.retryAfterMs}`);
  assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After header in seconds');
  assert.equal((await upgradeStatus(desk.url, path, from('198.51.100.9'))).status, 101, 'another network');
  const back = await visitor(desk.url, name, { token: tokens[0], headers: from('203.0.113.7') });
  assert.equal(back.userId.length > 0, true, 'a returning visitor is not new');
  await back.close();
});

test('a visitor holds at most SOCKETS_PER_VISITOR sockets; closing one frees a place', async () => {
  const name = deskName('tabs');
  const first = await visitor(desk.url, name);
  const second = await visitor(desk.url, name, { token: first.token });
  const third = await upgradeStatus(desk.url, `/desks/${name}/visitor?token=${first.token}`, {});
  assert.equal(third.status, 429);
  assert.equal(third.body.code, 'too_many_sockets');
  await second.close();
  const again = await visitor(desk.url, name, { token: first.token });
  assert.equal(again.userId, first.userId);
  await closeAll(first, again);
});
