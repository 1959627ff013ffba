// Verified identity: a host site vouches for a logged-in customer with HMAC-SHA256(deskKey, userId),
// deskKey = hex(HMAC-SHA256(IDENTITY_SECRET, "desk:" + desk)); that customer gets one conversation on
// every device, and a claim without the right hash (or with another desk's) is refused and never
// reaches (or merges into) it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createHmac } from 'node:crypto';
import { IDENTITY_SECRET, connectVisitor, deskKey, deskName, startMiniflare, userHash } from '../helpers/desk.js';
import { admin, closeAll, history, messageWith, reply, rowOf, rows, say, texts, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare({ bindings: { IDENTITY_SECRET } }); });
after(async () => { await desk?.dispose(); });

const refusal = (status, code) => (err) => {
  assert.equal(err.status, status, err.message);
  assert.equal(JSON.parse(err.body).code, code);
  return true;
};

test('a verified customer gets the same conversation on a second device, and no token', async () => {
  const name = deskName('verified');
  const identity = { userId: 'customer-42', userHash: userHash(name, 'customer-42') };
  const inbox = await admin(desk.url, name);
  const laptop = await visitor(desk.url, name, { identity, name: 'Ada Lovelace' });
  assert.equal(laptop.welcome.verifiedId, 'customer-42');
  assert.equal(laptop.token, '', 'a verified visitor proves itself on every connect instead');
  await say(laptop, 'Where is order 1234?');
  await inbox.next(messageWith('Where is order 1234?'));
  await reply(inbox, laptop.userId, 'It ships today.');

  const phone = await visitor(desk.url, name, { identity });
  assert.equal(phone.userId, laptop.userId, 'one conversation per verified id');
  assert.deepEqual(texts(phone.welcome.messages), ['user:Where is order 1234?', 'admin:It ships today.']);
  const row = rowOf(await rows(desk.url, name), laptop.userId);
  assert.equal(row.verifiedId, 'customer-42');
  assert.equal(row.name, 'Ada Lovelace');
  await closeAll(inbox, laptop, phone);
});

test('a missing, wrong or borrowed hash is refused (401), never served an anonymous chat instead', async () => {
  const name = deskName('claims');
  const owner = await visitor(desk.url, name, { identity: { userId: 'customer-7', userHash: userHash(name, 'customer-7') } });
  await say(owner, 'my private question');
  const attempts = [
    { userId: 'customer-7' }, // no hash at all
    { userId: 'customer-7', userHash: '' },
    { userId: 'customer-7', userHash: userHash(name, 'customer-8') }, // another user's valid hash
    { userId: 'customer-7', userHash: userHash(name, 'customer-7', 'a-guessed-secret') },
    { userId: 'customer-7', userHash: userHash(name, 'customer-7').slice(0, 32) },
    { userId: 'customer-7', userHash: 'not-hex' },
  ];
  for (const identity of attempts) {
    await assert.rejects(connectVisitor(desk.url, name, { identity }), refusal(401, 'unauthorized'), JSON.stringify(identity));
  }
  // With a valid anonymous token the claim is still refused, not ignored.
  const anon = await visitor(desk.url, name);
  await assert.rejects(connectVisitor(desk.url, name, { token: anon.token, identity: { userId: 'customer-7' } }), refusal(401, 'unauthorized'));
  await assert.rejects(connectVisitor(desk.url, name, { identity: { userId: '', userHash: 'ab' } }), refusal(400, 'bad_request'));

  const inbox = await admin(desk.url, name);
  assert.deepEqual(texts((await history(inbox, owner.userId)).messages), ['user:my private question']);
  await closeAll(owner, anon, inbox);
});

test("a hash is valid on its own desk only: desk A's proof for customer 42 opens nothing on desk B", async () => {
  const [deskA, deskB] = [deskName('bound-a'), deskName('bound-b')];
  const onA = { userId: 'customer-42', userHash: userHash(deskA, 'customer-42') };
  const a = await visitor(desk.url, deskA, { identity: onA });
  assert.equal(a.welcome.verifiedId, 'customer-42');
  await say(a, 'my order on desk A');
  const unbound = createHmac('sha256', IDENTITY_SECRET).update('customer-42').digest('hex'); // the formula of old
  for (const [where, identity] of [
    [deskB, onA], // A's valid proof, on B
    [deskA.toUpperCase(), onA], // another desk, however alike its name
    [deskB, { userId: 'customer-42', userHash: unbound }],
    [deskA, { userId: 'customer-42', userHash: unbound }],
    [deskB, { userId: 'customer-42', userHash: deskKey(deskB) }], // the desk key is not a proof
  ]) {
    await assert.rejects(connectVisitor(desk.url, where, { identity }), refusal(401, 'unauthorized'), `${where} ${identity.userHash}`);
  }
  // B's own proof opens B's own conversation for the same customer id: nothing of A's.
  const b = await visitor(desk.url, deskB, { identity: { userId: 'customer-42', userHash: userHash(deskB, 'customer-42') } });
  assert.equal(b.welcome.verifiedId, 'customer-42');
  assert.deepEqual(b.welcome.messages, []);
  const inboxA = await admin(desk.url, deskA);
  assert.deepEqual(texts((await history(inboxA, a.userId)).messages), ['user:my order on desk A']);
  await closeAll(a, b, inboxA);
});

test('verifying never merges: an anonymous conversation and a verified one stay apart', async () => {
  const name = deskName('merge');
  const anon = await visitor(desk.url, name);
  await say(anon, 'asked before logging in');
  const identity = { userId: 'customer-9', userHash: userHash(name, 'customer-9') };
  const verified = await visitor(desk.url, name, { token: anon.token, identity });
  assert.notEqual(verified.userId, anon.userId, 'the token does not carry the anonymous chat into the verified one');
  assert.deepEqual(verified.welcome.messages, []);
  await say(verified, 'asked after logging in');
  const inbox = await admin(desk.url, name);
  assert.deepEqual(texts((await history(inbox, anon.userId)).messages), ['user:asked before logging in']);
  assert.deepEqual(texts((await history(inbox, verified.userId)).messages), ['user:asked after logging in']);
  await closeAll(anon, verified, inbox);
});

test('without IDENTITY_SECRET every claim is refused with 503 identity_disabled; anonymous visitors still work', async () => {
  const bare = await startMiniflare();
  try {
    const name = deskName('no-secret');
    const identity = { userId: 'customer-42', userHash: userHash(name, 'customer-42') };
    await assert.rejects(connectVisitor(bare.url, name, { identity }), refusal(503, 'identity_disabled'));
    const anon = await visitor(bare.url, name);
    assert.equal(anon.welcome.verifiedId, undefined);
    assert.equal(anon.token.length, 64);
    await anon.close();
  } finally {
    await bare.dispose();
  }
});
