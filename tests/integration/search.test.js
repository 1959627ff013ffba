// Search: one message among thousands, a visitor by name, notes, every word must match, prefix on
// the last word, one result per conversation, limits, and queries full of FTS syntax that must be
// taken as plain words (never an error).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BULK_LIMITS, deskName, startMiniflare } from '../helpers/desk.js';
import { ackFor, admin, cid, closeAll, note, removedOf, say, search, visitor } from './flows.js';

const UNIQUE = 'zanzibarquokka';
const WRITERS = 6;
const PER_WRITER = 500; // 3,000 messages
const WORDS = ['order', 'parcel', 'refund', 'delivery', 'invoice', 'shipping', 'address', 'payment', 'broken', 'size'];

let desk;
const w = {};
before(async () => {
  desk = await startMiniflare({ bindings: BULK_LIMITS });
  w.name = deskName('search');
  const writers = [];
  for (let i = 0; i < WRITERS; i += 1) writers.push(await visitor(desk.url, w.name, { name: `Writer ${i}` }));
  // Every writer sends its share at once; the acks come back as they are stored.
  const pending = [];
  const needle = { writer: 3, index: 271 };
  for (const [wi, v] of writers.entries()) {
    for (let j = 0; j < PER_WRITER; j += 1) {
      const words = [WORDS[(wi + j) % WORDS.length], WORDS[(j * 7) % WORDS.length], `n${j}`];
      const text = wi === needle.writer && j === needle.index ? `my parcel ${UNIQUE} never arrived` : `about my ${words.join(' ')} please`;
      const clientMsgId = cid(`w${wi}`);
      v.send({ type: 'message', message: text, clientMsgId });
      pending.push(v.next(ackFor(clientMsgId), { timeout: 120_000 }).then((ack) => ({ ack, wi, text })));
    }
  }
  const acks = await Promise.all(pending);
  assert.equal(acks.length, WRITERS * PER_WRITER);
  w.needle = acks.find((a) => a.text.includes(UNIQUE));
  w.needleUser = writers[needle.writer].userId;
  const philippa = await visitor(desk.url, w.name, { name: 'Philippa Quagmire' });
  const phAck = await say(philippa, 'hello, where is my order');
  w.philippa = { userId: philippa.userId, ack: phAck };
  w.owner = await admin(desk.url, w.name);
  w.noteAck = await note(w.owner, writers[1].userId, 'customer prefers xylophonic hold music');
  w.noteUser = writers[1].userId;
  w.writers = writers.map((v) => v.userId);
  await closeAll(...writers, philippa);
});
after(async () => {
  await w.owner?.close();
  await desk?.dispose();
});

const snippetHas = (r, word) => r.snippet.toLowerCase().includes(word.toLowerCase());

test('one message among 3,000: found by its word, case-insensitively, by a prefix, with its seq and row', async () => {
  for (const query of [UNIQUE, UNIQUE.toUpperCase(), 'Zanzibarquokka', 'zanzibarq', `parcel ${UNIQUE}`, `${UNIQUE} parcel`, `  ${UNIQUE}  `]) {
    const res = await search(w.owner, query);
    assert.equal(res.type, 'search', `${query}: ${JSON.stringify(res)}`);
    assert.equal(res.query, query, 'the answer names its query');
    assert.equal(res.results.length, 1, `${query}: exactly one conversation: ${JSON.stringify(res.results).slice(0, 300)}`);
    const [hit] = res.results;
    assert.equal(hit.userId, w.needleUser);
    assert.equal(hit.seq, w.needle.ack.seq, 'the matching message\'s seq');
    assert.ok(snippetHas(hit, 'zanzibar'), `the snippet shows the match: ${hit.snippet}`);
    assert.equal(hit.user.userId, w.needleUser);
    assert.equal(hit.user.status, 'open', 'results carry full rows');
    assert.equal(hit.user.name, 'Writer 3');
  }
  // Every word must match.
  for (const query of [`${UNIQUE} refund`, `${UNIQUE} nosuchwordanywhere`, 'nosuchwordanywhere', 'quokkazanzibar']) {
    const res = await search(w.owner, query);
    assert.equal(res.type, 'search', `${query}: ${JSON.stringify(res)}`);
    assert.deepEqual(res.results, [], `${query}: nothing`);
  }
  // Only the last word is a prefix.
  assert.deepEqual((await search(w.owner, `zanzib parcel`)).results, [], 'a prefix only for the last word');
});

test('a visitor is found by name (seq 0); a note is found (its seq)', async () => {
  for (const query of ['quagmire', 'Philippa', 'philippa quag']) {
    const res = await search(w.owner, query);
    assert.equal(res.type, 'search', JSON.stringify(res));
    assert.equal(res.results.length, 1, `${query}: ${JSON.stringify(res.results).slice(0, 300)}`);
    assert.equal(res.results[0].userId, w.philippa.userId);
    assert.equal(res.results[0].seq, 0, 'the name matched');
    assert.equal(res.results[0].user.name, 'Philippa Quagmire');
  }
  const res = await search(w.owner, 'xylophonic');
  assert.equal(res.results.length, 1, JSON.stringify(res));
  assert.deepEqual([res.results[0].userId, res.results[0].seq], [w.noteUser, w.noteAck.seq]);
});

test('a common word: one result per conversation, best match each, at most limit (default 20, max 50)', async () => {
  const res = await search(w.owner, 'order');
  assert.equal(res.type, 'search');
  const users = res.results.map((r) => r.userId);
  assert.equal(new Set(users).size, users.length, 'one result per conversation');
  assert.deepEqual(new Set(users), new Set([...w.writers, w.philippa.userId]), 'every conversation with "order"');
  for (const r of res.results) assert.ok(snippetHas(r, 'order'), r.snippet);
  assert.equal((await search(w.owner, 'order', { limit: 3 })).results.length, 3);
  assert.equal((await search(w.owner, 'writer')).results.length, WRITERS, 'names: Writer 0..5');
  for (const limit of [0, 51, -1, 'x']) {
    const got = await search(w.owner, 'order', { limit });
    if (got.type === 'search') assert.ok(got.results.length <= 50, `limit ${limit}`);
    else assert.equal(got.code, 'bad_frame', `limit ${limit}: ${JSON.stringify(got)}`);
  }
});

test('a chatty conversation does not hide a quiet one: every matching conversation counts toward limit', async () => {
  const name = deskName('chatty');
  const chatty = await visitor(desk.url, name, { name: 'Chatty' });
  const pending = [];
  for (let i = 0; i < 300; i += 1) {
    const clientMsgId = cid('ch');
    chatty.send({ type: 'message', message: 'order order', clientMsgId });
    pending.push(chatty.next(ackFor(clientMsgId), { timeout: 60_000 }));
  }
  await Promise.all(pending);
  const quiet = await visitor(desk.url, name, { name: 'Quiet' });
  const quietAck = await say(quiet, 'hello, I placed an order last week and nothing has arrived since then, could you check it');
  const a = await admin(desk.url, name);
  for (const extra of [{}, { limit: 2 }, { limit: 50 }]) {
    const res = await search(a, 'order', extra);
    assert.deepEqual(res.results.map((r) => r.user.name).sort(), ['Chatty', 'Quiet'],
      `limit ${extra.limit ?? 'default'}: both conversations match "order": ${JSON.stringify(res.results.map((r) => [r.user.name, r.seq]))}`);
    assert.equal(res.results.find((r) => r.user.name === 'Quiet').seq, quietAck.seq);
  }
  await closeAll(a, chatty, quiet);
});

test('FTS syntax in a query is taken as text: never an error, and the word around it still found', async () => {
  const findsNeedle = [`"${UNIQUE}`, `${UNIQUE}"`, `"${UNIQUE}"`, `${UNIQUE}*`, `(${UNIQUE})`, `(${UNIQUE}`, `-${UNIQUE}`,
    `^${UNIQUE}`, `${UNIQUE}:`, `{${UNIQUE}}`, `'${UNIQUE}'`, `${UNIQUE};`, `+${UNIQUE}`, `${UNIQUE}\\`];
  for (const query of findsNeedle) {
    const res = await search(w.owner, query);
    assert.equal(res.type, 'search', `${query}: ${JSON.stringify(res)}`);
    assert.deepEqual(res.results.map((r) => r.userId), [w.needleUser], `${query} finds the one message`);
  }
  const oddities = ['"', '""', '*', '**', '(', ')', '()', 'NEAR', 'NEAR(', `NEAR(${UNIQUE} parcel)`, `NEAR(${UNIQUE} parcel, 2)`, '-', '--',
    'AND', 'OR', 'NOT', `${UNIQUE} OR`, `${UNIQUE} AND`, `NOT ${UNIQUE}`, `${UNIQUE} -parcel`, 'a:b', `message:${UNIQUE}`, ':', '^', '{}', '[]', '%', '_',
    '\\', "'", ';', "'; DROP TABLE messages; --", 'zanzibar-quokka', '\u0000', '😀', 'ü', 'x'.repeat(1000), `${UNIQUE} `.repeat(40)];
  for (const query of oddities) {
    const res = await search(w.owner, query);
    assert.ok(res.type === 'search' || res.code === 'bad_frame', `${JSON.stringify(query).slice(0, 40)} never fails inside: ${JSON.stringify(res).slice(0, 300)}`);
    if (res.type === 'search') {
      assert.ok(Array.isArray(res.results));
      assert.ok(res.results.length <= 20);
    }
  }
  // Queries of words spelled with operators around them: still plain words.
  for (const query of [`NEAR(${UNIQUE} parcel)`, `${UNIQUE} AND`, `${UNIQUE} OR`]) {
    const res = await search(w.owner, query);
    assert.equal(res.type, 'search', `${query}: ${JSON.stringify(res)}`);
  }
  // The desk still searches after all that.
  assert.equal((await search(w.owner, UNIQUE)).results.length, 1);
});

test('an empty or blank query is not an internal error', async () => {
  for (const query of ['', '   ', '\t']) {
    const res = await search(w.owner, query);
    assert.ok((res.type === 'search' && Array.isArray(res.results)) || res.code === 'bad_frame', `${JSON.stringify(query)}: ${JSON.stringify(res).slice(0, 200)}`);
  }
  w.owner.send({ type: 'search', query: 5 });
  assert.equal((await w.owner.next((f) => f.type === 'search' || f.type === 'error')).code, 'bad_frame');
  w.owner.send({ type: 'search' });
  assert.equal((await w.owner.next((f) => f.type === 'search' || f.type === 'error')).code, 'bad_frame');
});

test('a message is found by the first search after its ack, however recent (the index catches up first)', async () => {
  const v = await visitor(desk.url, w.name, { name: 'Late Writer' });
  for (const word of ['quillwortfirst', 'quillwortsecond']) {
    const ack = await say(v, `just now: ${word}`);
    const res = await search(w.owner, word);
    assert.deepEqual(res.results.map((r) => [r.userId, r.seq]), [[v.userId, ack.seq]], `${word}: ${JSON.stringify(res)}`);
  }
  await v.close();
});

test('names are indexed in batches (schema v17): a new, a renamed and a visitor that takes the deleted newest one\'s row are found by the next search', async () => {
  const name = deskName('names');
  const owner = await admin(desk.url, name);
  const found = async (query) => (await search(owner, query)).results.map((r) => r.userId);
  // Indexed by the search itself, then renamed: the trigger keeps an indexed name in step.
  const a = await visitor(desk.url, name, { name: 'Quorra Alpha' });
  await say(a, 'hello');
  assert.deepEqual(await found('quorra'), [a.userId]);
  await a.close();
  const a2 = await visitor(desk.url, name, { token: a.token, name: 'Quorra Beta' });
  assert.deepEqual(await found('beta'), [a.userId], 'an indexed name renamed');
  assert.deepEqual(await found('alpha'), [], 'the old name is gone');
  // Renamed before any search indexed it: indexed once, with its name of the moment.
  const b = await visitor(desk.url, name, { name: 'Zelda Gamma' });
  await say(b, 'hello');
  await b.close();
  const b2 = await visitor(desk.url, name, { token: b.token, name: 'Zelda Delta' });
  assert.deepEqual(await found('delta'), [b.userId], 'a name renamed before it was indexed');
  assert.deepEqual(await found('gamma'), []);
  // The newest visitor, indexed, then deleted: the next visitor may get its row id, and must
  // still be indexed (the mark goes down with the deletion).
  const c = await visitor(desk.url, name, { name: 'Newest Epsilon' });
  await say(c, 'hello');
  assert.deepEqual(await found('epsilon'), [c.userId]);
  owner.send({ type: 'delete', userId: c.userId });
  await owner.next(removedOf(c.userId));
  const d = await visitor(desk.url, name, { name: 'Reused Zeta' });
  await say(d, 'hello');
  assert.deepEqual(await found('zeta'), [d.userId], 'the visitor after the deleted newest one');
  assert.deepEqual(await found('epsilon'), [], 'the deleted one is not found');
  await closeAll(owner, a2, b2, c, d);
});
