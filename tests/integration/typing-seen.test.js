// Typing and seen marks in workerd: a visitor's typing reaches the agents and never another visitor (nor is it stored); an agent's reaches its visitor by name only; seen and read marks are stored, survive a restart of the object (a new runtime on the same storage), and come back in `welcome`, `users` and `list`. The client module's typing constants are the desk's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { TYPING_EVERY_MS, TYPING_SHOWN_MS, seenFrame, typingFrame, typingSender } from '../../client/protocol.js';
import { BULK_LIMITS, deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, errorFor, history, messageWith, reply, rowOf, say, visitor, where } from './flows.js';

let runtime;
after(async () => { await runtime?.dispose(); });

const typingOf = (check = () => true) => where('typing', (f) => f.type === 'typing' && check(f));
/** The frames `client` received before the first that matches `marker` (which must have come). */
const before = (client, marker) => client.frames.slice(0, client.frames.findIndex(marker));

test('the client module\'s typing constants and frames are the desk\'s', () => {
  const rust = readFileSync(new URL('../../src/protocol.rs', import.meta.url), 'utf8');
  const value = (name) => Number(new RegExp(`const ${name}: i64 = ([0-9_]+);`).exec(rust)?.[1].replaceAll('_', ''));
  assert.equal(TYPING_EVERY_MS, value('TYPING_EVERY_MS'));
  assert.equal(TYPING_SHOWN_MS, value('TYPING_SHOWN_MS'));
  assert.deepEqual(typingFrame(), { type: 'typing' });
  assert.deepEqual(typingFrame('u1'), { type: 'typing', userId: 'u1' });
  assert.deepEqual(seenFrame(7), { type: 'seen', seq: 7 });
  // one frame per period, whatever the keystrokes
  let now = 10_000;
  const sent = [];
  const typed = typingSender((f) => sent.push(f), () => now);
  for (const step of [0, 300, 1_000, 1_999, 2_000, 2_500, 4_100]) { now = 10_000 + step; typed('u1'); }
  assert.equal(sent.length, 3);
});

test('typing reaches the agents and that visitor only, never another visitor, and is never stored', { timeout: 60_000 }, async () => {
  runtime = await startMiniflare({ bindings: BULK_LIMITS });
  const name = deskName('typing');
  const a = await admin(runtime.url, name);
  const one = await visitor(runtime.url, name);
  const oneTab = await visitor(runtime.url, name, { token: one.token });
  const two = await visitor(runtime.url, name);
  await say(one, 'Hello from one');
  await say(two, 'Hello from two');
  const before1 = await history(a, one.userId);

  one.send(typingFrame());
  const toAgents = await a.next(typingOf());
  assert.deepEqual(toAgents, { type: 'typing', userId: one.userId });

  a.send(typingFrame(one.userId));
  for (const tab of [one, oneTab]) assert.deepEqual(await tab.next(typingOf()), { type: 'typing', agentName: 'Owner' });

  // Another visitor naming someone else's conversation is refused, and that conversation hears nothing.
  two.send(typingFrame(one.userId));
  await two.next(errorFor('forbidden'));

  // Markers: a reply to each visitor, after everything above. What came before it is all they heard.
  await reply(a, two.userId, 'marker for two');
  await two.next(messageWith('marker for two'));
  await reply(a, one.userId, 'marker for one');
  for (const tab of [one, oneTab]) await tab.next(messageWith('marker for one'));
  assert.deepEqual(before(two, (f) => f.message === 'marker for two').filter((f) => f.type === 'typing'), [], 'two heard no typing');
  for (const tab of [one, oneTab]) {
    const typing = before(tab, (f) => f.message === 'marker for one').filter((f) => f.type === 'typing');
    assert.deepEqual(typing, [{ type: 'typing', agentName: 'Owner' }], 'a visitor hears the agent only, never itself');
  }
  assert.ok(a.frames.filter((f) => f.type === 'typing').every((f) => f.userId === one.userId), 'only one typed');

  const after1 = await history(a, one.userId);
  assert.deepEqual(after1.messages.slice(0, before1.messages.length), before1.messages, 'typing stored nothing');
  assert.ok(after1.messages.every((m) => m.sender !== 'typing'));
  for (const c of [a, one, oneTab, two]) await c.close();
  await runtime.dispose();
  runtime = null;
});

test('seen and read marks are validated, stored, and survive a restart of the object', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-seen-');
  runtime = await startMiniflare({ persistDir, bindings: BULK_LIMITS });
  const name = deskName('seen');
  let a = await admin(runtime.url, name);
  let v = await visitor(runtime.url, name);
  const other = await visitor(runtime.url, name);
  await say(other, 'I am someone else');
  const asked = await say(v, 'Where is my order?');
  assert.equal(v.welcome.seenSeq, undefined, 'no mark yet: none sent');
  const answered = await reply(a, v.userId, 'On its way');

  v.send(seenFrame(answered.seq + 1000));
  const refusal = await v.next(errorFor('bad_frame'));
  assert.match(refusal.message, /beyond/);
  v.send(seenFrame(answered.seq));
  assert.deepEqual(await a.next(where('seen', (f) => f.type === 'seen')), { type: 'seen', userId: v.userId, seq: answered.seq });
  v.send(seenFrame(asked.seq)); // lower: nothing changes, nobody is told
  await history(v); // answered after the frames before it
  a.send({ type: 'read', userId: v.userId });
  assert.deepEqual(await v.next(where('read', (f) => f.type === 'read')), { type: 'read', seq: answered.seq });
  await a.next(where('the read row', (f) => f.type === 'user' && f.user.userId === v.userId && f.user.unread === 0));
  assert.equal(a.frames.filter((f) => f.type === 'seen').length, 1, 'the lower mark told no one');
  assert.deepEqual(other.frames.filter((f) => f.type === 'read' || f.type === 'seen'), [], 'the other visitor heard nothing');

  // A new runtime on the same storage: every mark comes back from SQLite.
  for (const c of [a, v, other]) await c.close();
  await runtime.dispose();
  runtime = await startMiniflare({ persistDir, bindings: BULK_LIMITS });
  a = await admin(runtime.url, name);
  const row = rowOf(a.users, v.userId);
  assert.deepEqual([row.seenSeq, row.readSeq], [answered.seq, answered.seq], 'users rows carry both marks');
  assert.equal(rowOf(a.users, other.userId).seenSeq, undefined, 'a visitor who said nothing has no mark');
  a.send({ type: 'list', view: 'all' });
  const list = await a.next('list');
  assert.deepEqual([rowOf(list.users, v.userId).seenSeq, rowOf(list.users, v.userId).readSeq], [answered.seq, answered.seq]);
  v = await visitor(runtime.url, name, { token: v.token });
  assert.deepEqual([v.welcome.seenSeq, v.welcome.readSeq], [answered.seq, answered.seq], 'welcome carries both marks');
  // and the mark still only rises
  v.send(seenFrame(asked.seq));
  const later = await say(v, 'Thanks');
  v.send(seenFrame(later.seq));
  assert.deepEqual(await a.next(where('seen', (f) => f.type === 'seen')), { type: 'seen', userId: v.userId, seq: later.seq });
  assert.equal(a.frames.filter((f) => f.type === 'seen').length, 1);
  for (const c of [a, v]) await c.close();
});
