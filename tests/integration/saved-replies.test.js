// Saved replies in workerd: the owner and admins create, edit and delete them, every agent's
// inbox gets the new list, agents and visitors are refused, bounds hold, and they survive a restart.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, closeAll, newAgent, refusal, visitor, where } from './flows.js';

let runtime;
after(async () => { await runtime?.dispose(); });

const repliesFrame = (check = () => true) => where('a replies frame', (f) => f.type === 'replies' && check(f.replies));

test('saved replies: CRUD by the owner and admins, read by every agent, refused to agents and visitors, kept across a restart', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-replies-');
  const name = deskName('replies');
  runtime = await startMiniflare({ persistDir });
  const owner = await admin(runtime.url, name);
  const ben = await newAgent(runtime.url, name, owner, { name: 'Ben', role: 'admin' });
  const ana = await newAgent(runtime.url, name, owner, { name: 'Ana' });
  const benSock = await admin(runtime.url, name, { token: ben.token });
  const anaSock = await admin(runtime.url, name, { token: ana.token });
  const V = await visitor(runtime.url, name);

  anaSock.send({ type: 'replies' });
  assert.deepEqual((await anaSock.next('replies')).replies, [], 'none yet');

  benSock.send({ type: 'save_reply', title: 'Refunds', shortcut: '/Refund', text: 'Refunds take 5–7 days.' });
  const created = await anaSock.next(repliesFrame((r) => r.length === 1));
  const [refund] = created.replies;
  assert.deepEqual([refund.title, refund.shortcut, refund.text], ['Refunds', 'refund', 'Refunds take 5–7 days.']);
  assert.ok(refund.id && refund.updatedAt > 0);
  await owner.next(repliesFrame((r) => r.length === 1));

  owner.send({ type: 'save_reply', id: refund.id, title: 'Refund time', shortcut: 'refund', text: 'Five to seven days.' });
  await anaSock.next(repliesFrame((r) => r[0]?.text === 'Five to seven days.'));
  owner.send({ type: 'save_reply', title: 'Hello', shortcut: 'hi', text: 'Hi! How can I help?' });
  const both = await benSock.next(repliesFrame((r) => r.length === 2));
  assert.deepEqual(both.replies.map((r) => r.shortcut), ['hi', 'refund'], 'by shortcut');

  for (const frame of [
    { type: 'save_reply', title: 'Mine', shortcut: 'mine', text: 'x' },
    { type: 'save_reply', id: refund.id, title: 'x', shortcut: 'refund', text: 'x' },
    { type: 'delete_reply', id: refund.id },
  ]) {
    assert.equal((await refusal(anaSock, frame)).code, 'forbidden', `an agent: ${frame.type}`);
  }
  assert.equal((await refusal(V, { type: 'replies' })).code, 'forbidden', 'a visitor may not even list them');
  assert.equal((await refusal(V, { type: 'save_reply', title: 't', shortcut: 't', text: 't' })).code, 'forbidden');
  assert.equal((await refusal(owner, { type: 'save_reply', title: 't', shortcut: 'HI', text: 't' })).code, 'bad_frame', 'shortcuts are unique');
  assert.equal((await refusal(owner, { type: 'save_reply', title: 't', shortcut: 'long', text: 'x'.repeat(1001) })).code, 'bad_frame');
  assert.equal((await refusal(owner, { type: 'delete_reply', id: 'nope' })).code, 'unknown_reply');

  benSock.send({ type: 'delete_reply', id: both.replies.find((r) => r.shortcut === 'hi').id });
  await anaSock.next(repliesFrame((r) => r.length === 1));
  await closeAll(owner, benSock, anaSock, V);
  await runtime.dispose();

  runtime = await startMiniflare({ persistDir });
  const ana2 = await admin(runtime.url, name, { token: ana.token });
  ana2.send({ type: 'replies' });
  const kept = (await ana2.next('replies')).replies;
  assert.deepEqual(kept.map((r) => [r.shortcut, r.title, r.text]), [['refund', 'Refund time', 'Five to seven days.']]);
  await closeAll(ana2);
});

test('a desk keeps at most 50 saved replies', { timeout: 60_000 }, async () => {
  await runtime?.dispose();
  runtime = await startMiniflare({ bindings: { ADMIN_FRAMES_PER_SEC: '1000', ADMIN_FRAME_BURST: '1000' } });
  const name = deskName('replies-bounded');
  const owner = await admin(runtime.url, name);
  for (let i = 0; i < 50; i += 1) owner.send({ type: 'save_reply', title: `R${i}`, shortcut: `r${i}`, text: `text ${i}` });
  await owner.next(repliesFrame((r) => r.length === 50));
  const error = await refusal(owner, { type: 'save_reply', title: 'one more', shortcut: 'more', text: 'x' });
  assert.equal(error.code, 'too_many');
  owner.send({ type: 'replies' });
  assert.equal((await owner.next('replies')).replies.length, 50);
  await closeAll(owner);
});
