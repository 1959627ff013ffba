// Desks that exist on purpose: `DESKS` lists them (`*`: any name), the owner creates others with
// `POST /desks/{desk}`; any other name is 404 `not_found` before a desk object is created or touched.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  ADMIN_TOKEN, DIRECTORY_READ_LINE, STARTED_LINE, deskName, handshakeHeaders, rawRequest, startMiniflare, startWranglerDev, tempDir,
  upgradeStatus,
} from '../helpers/desk.js';
import { admin, closeAll, createDesk, messageWith, reply, say, texts, visitor } from './flows.js';

/** `directory::REREAD_MS`: an isolate reads the directory for unknown names at most this often. */
const REREAD_MS = 1000;

const runtimes = new Set();
after(async () => { for (const r of runtimes) await r.dispose(); });
async function start(opts) {
  const r = await startMiniflare(opts);
  runtimes.add(r);
  return r;
}
async function stop(r) {
  runtimes.delete(r);
  await r.dispose();
}

/** The SQLite files Miniflare persisted for desk objects (one per object that stored anything,
 *  named by its id), in the folder it keeps for the `Desk` class (beside its `metadata.sqlite`). */
function deskFiles(persistDir) {
  if (!existsSync(persistDir)) return [];
  return readdirSync(persistDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /(^|-)Desk$/.test(d.name))
    .flatMap((d) => readdirSync(join(persistDir, d.name)).filter((f) => /^[0-9a-f]{64}\.sqlite$/.test(f)).map((f) => join(d.name, f)));
}

/** One request of every kind a desk answers, for `desk`: each must be refused 404 `not_found`. */
function everyEndpoint(url, desk, i) {
  const bearer = ['Authorization', `Bearer ${ADMIN_TOKEN}`];
  switch (i % 5) {
    case 0: return rawRequest(url, `/desks/${desk}/visitor`, { headers: handshakeHeaders() });
    case 1: return rawRequest(url, `/desks/${desk}/admin`, { headers: [...handshakeHeaders(), bearer] });
    case 2: return rawRequest(url, `/desks/${desk}/visitor/check`, { method: 'POST', body: JSON.stringify({ token: 'ab'.repeat(32) }) });
    case 3: return rawRequest(url, `/desks/${desk}/admin/check`, { method: 'POST', headers: [bearer] });
    default: return rawRequest(url, `/desks/${desk}/agents/accept`, { method: 'POST', body: JSON.stringify({ code: 'c'.repeat(64), name: 'Mallory' }) });
  }
}

function assertUnknown(res, what) {
  assert.equal(res.status, 404, `${what}: want 404, got ${res.status} ${res.text}`);
  assert.equal(res.body?.code, 'not_found', `${what}: ${res.text}`);
  assert.equal(typeof res.body.message, 'string');
}

test('200 desk names sprayed from one client are 404 not_found and create nothing; the directory is read at most once a second', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-spray-');
  const listed = deskName('listed');
  const rt = await start({ persistDir, bindings: { DESKS: listed } });
  const began = Date.now();
  // The first request alone (a cold isolate asks the directory for every unknown name until its
  // first read has completed), then batches of 20 at once, every endpoint in turn.
  assertUnknown(await everyEndpoint(rt.url, deskName('spray'), 0), 'the first sprayed name');
  for (let batch = 0; batch < 10; batch += 1) {
    const names = Array.from({ length: batch === 0 ? 19 : 20 }, () => deskName('spray'));
    const answers = await Promise.all(names.map((n, i) => everyEndpoint(rt.url, n, i + 1)));
    answers.forEach((res, i) => assertUnknown(res, `${names[i]} (kind ${(i + 1) % 5})`));
  }
  // Names that look like the listed one are other names.
  for (const near of [listed.toUpperCase(), `${listed}-x`, listed.slice(0, -1)]) {
    assertUnknown(await rawRequest(rt.url, `/desks/${near}/visitor`, { headers: handshakeHeaders() }), near);
  }
  const elapsed = Date.now() - began;
  assert.equal(rt.logs.count(STARTED_LINE), 0, `no desk object was started:\n${rt.logs.text}`);
  assert.deepEqual(deskFiles(persistDir), [], 'no desk storage was created');
  const reads = rt.logs.count(DIRECTORY_READ_LINE);
  assert.ok(reads >= 1 && reads <= 1 + Math.ceil(elapsed / REREAD_MS),
    `${reads} directory reads in ${elapsed} ms for 203 unknown names:\n${rt.logs.text}`);

  // The listed desk is served, and its storage is the one that appears (so the check above can fail).
  const v = await visitor(rt.url, listed, { name: 'Alice' });
  await say(v, 'hello from a listed desk');
  await v.close();
  assert.equal(rt.logs.count(STARTED_LINE), 1);
  assert.equal(deskFiles(persistDir).length, 1, `one desk's storage: ${deskFiles(persistDir)}`);
});

test('DESKS lists the desks served: each works end to end, every other name is 404', { timeout: 60_000 }, async () => {
  const [one, two] = [deskName('one'), deskName('two')];
  const rt = await start({ bindings: { DESKS: ` ${one},${two} , not.a.desk` } });
  for (const desk of [one, two]) {
    const a = await admin(rt.url, desk);
    const A = await visitor(rt.url, desk, { name: 'Alice' });
    await say(A, `hi ${desk}`);
    await a.next(messageWith(`hi ${desk}`));
    await reply(a, A.userId, `answer on ${desk}`);
    await A.next(messageWith(`answer on ${desk}`));
    await closeAll(a, A);
  }
  assertUnknown(await upgradeStatus(rt.url, `/desks/${deskName('three')}/visitor`), 'an unlisted desk');
  assertUnknown(await upgradeStatus(rt.url, '/desks/not-a-desk/visitor'), 'a near miss of the invalid entry');
  const bad = await upgradeStatus(rt.url, '/desks/not.a.desk/visitor');
  assert.equal(bad.status, 400, 'an invalid name is still 400 bad_desk, listed or not');
  assert.equal(bad.body.code, 'bad_desk');
});

test('DESKS=* (make dev, the harness, the bench) serves any name without reading the directory', async () => {
  const rt = await start({ bindings: { DESKS: '*' } });
  for (const desk of [deskName('any'), 'x'.repeat(64), 'A']) {
    const v = await visitor(rt.url, desk);
    assert.ok(v.userId, desk);
    await v.close();
  }
  assert.equal(rt.logs.count('directory object started'), 0, `the directory was never touched:\n${rt.logs.text}`);
});

test('POST /desks/{desk}: the owner creates a desk (201, then 200); a wrong or missing token, a bad name, another method and a foreign page are refused and create nothing', { timeout: 60_000 }, async () => {
  const rt = await start({ bindings: { DESKS: undefined } }); // unset: only created desks exist
  const name = deskName('made');
  assertUnknown(await upgradeStatus(rt.url, `/desks/${name}/visitor`), 'before it is created');

  for (const [token, why] of [['wrong-token-0123456789abcdef0123456789', 'a wrong token'], [`${ADMIN_TOKEN}x`, 'the token and more'],
    [null, 'no token']]) {
    const res = await createDesk(rt.url, name, { token });
    assert.equal(res.status, 401, `${why}: ${res.text}`);
    assert.equal(res.body.code, 'unauthorized');
  }
  const basic = await rawRequest(rt.url, `/desks/${name}`, { method: 'POST', headers: [['Authorization', `Basic ${ADMIN_TOKEN}`]] });
  assert.equal(basic.status, 401, basic.text);
  const foreign = await createDesk(rt.url, name, { headers: [['Origin', 'https://evil.example']] });
  assert.deepEqual([foreign.status, foreign.body.code], [403, 'forbidden_origin']);
  const get = await rawRequest(rt.url, `/desks/${name}`, { headers: [['Authorization', `Bearer ${ADMIN_TOKEN}`]] });
  assert.deepEqual([get.status, get.body.code], [404, 'not_found'], 'only a POST names a desk itself');
  for (const bad of ['a.b', 'x'.repeat(65), 'caf%C3%A9']) {
    const res = await createDesk(rt.url, bad);
    assert.deepEqual([res.status, res.body.code], [400, 'bad_desk'], `${bad}: ${res.text}`);
  }
  assertUnknown(await upgradeStatus(rt.url, `/desks/${name}/visitor`), 'after refused creates');
  assert.equal(rt.logs.count(STARTED_LINE), 0, 'no desk object yet');

  const made = await createDesk(rt.url, name);
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(made.body, { desk: name, created: true });
  assert.equal(rt.logs.count(STARTED_LINE), 0, 'creating records the name; the desk object starts on first use');
  const again = await createDesk(rt.url, name);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body, { desk: name, created: false });

  const a = await admin(rt.url, name);
  const A = await visitor(rt.url, name);
  await say(A, 'on a created desk');
  await a.next(messageWith('on a created desk'));
  await closeAll(a, A);
  assertUnknown(await upgradeStatus(rt.url, `/desks/${deskName('other')}/visitor`), 'another name');
});

test('creating is capped by MAX_DESKS (409 too_many_desks); an existing desk still answers 200', async () => {
  const rt = await start({ bindings: { DESKS: undefined, MAX_DESKS: '2' } });
  const [a, b, c] = [deskName('cap-a'), deskName('cap-b'), deskName('cap-c')];
  assert.equal((await createDesk(rt.url, a)).status, 201);
  assert.equal((await createDesk(rt.url, b)).status, 201);
  const over = await createDesk(rt.url, c);
  assert.equal(over.status, 409, over.text);
  assert.equal(over.body.code, 'too_many_desks');
  assert.match(over.body.message, /MAX_DESKS/);
  assert.equal((await createDesk(rt.url, a)).status, 200, 'an existing desk is not a new one');
  assertUnknown(await upgradeStatus(rt.url, `/desks/${c}/visitor`), 'the refused desk');
});

test('without a strong ADMIN_TOKEN nobody creates desks (503 admin_disabled)', async () => {
  for (const token of ['', 'hunter2']) {
    const rt = await start({ bindings: { DESKS: undefined, ADMIN_TOKEN: token } });
    const res = await createDesk(rt.url, deskName('closed'), { token: token || 'anything' });
    assert.deepEqual([res.status, res.body.code], [503, 'admin_disabled'], `ADMIN_TOKEN '${token}': ${res.text}`);
    await stop(rt);
  }
});

test('a created desk survives a restart of the runtime, with its conversations', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-created-');
  const name = deskName('kept');
  let rt = await start({ persistDir, bindings: { DESKS: undefined } });
  assert.equal((await createDesk(rt.url, name)).status, 201);
  const A = await visitor(rt.url, name, { name: 'Alice' });
  await say(A, 'before the restart');
  await A.close();
  await stop(rt);

  rt = await start({ persistDir, bindings: { DESKS: undefined } });
  const back = await visitor(rt.url, name, { token: A.token });
  assert.equal(back.userId, A.userId);
  assert.deepEqual(texts(back.welcome.messages), ['user:before the restart']);
  await back.close();
  assert.equal((await createDesk(rt.url, name)).status, 200, 'the directory remembers it');
  assertUnknown(await upgradeStatus(rt.url, `/desks/${deskName('never')}/visitor`), 'a desk never created');
});

test('wrangler dev: DESKS from --var, a create by POST, and the created desk after a restart on the same storage', { timeout: 180_000 }, async () => {
  const persistDir = tempDir('desk-wrangler-desks-');
  const [listed, made] = [deskName('wr-listed'), deskName('wr-made')];
  let dev = await startWranglerDev({ persistDir, vars: { DESKS: listed } });
  try {
    const v = await visitor(dev.url, listed);
    await v.close();
    const unknown = await upgradeStatus(dev.url, `/desks/${made}/visitor`);
    assertUnknown(unknown, 'not created yet');
    assert.equal((await createDesk(dev.url, made, { token: 'wrong-token-0123456789abcdef0123456789' })).status, 401);
    assert.equal((await createDesk(dev.url, made)).status, 201);
    const A = await visitor(dev.url, made, { name: 'Alice' });
    await say(A, 'made under wrangler dev');
    await A.close();
    await dev.stop();

    dev = await startWranglerDev({ persistDir, vars: { DESKS: listed } });
    const back = await visitor(dev.url, made, { token: A.token });
    assert.deepEqual(texts(back.welcome.messages), ['user:made under wrangler dev']);
    await back.close();
    assertUnknown(await upgradeStatus(dev.url, `/desks/${deskName('wr-never')}/visitor`), 'never created');
  } finally {
    await dev.stop();
  }
});
