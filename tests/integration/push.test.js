// Web Push to agents in workerd: a real local HTTP server plays the push service. It checks what
// the desk POSTs (aes128gcm, TTL, Urgency, a VAPID JWT it verifies with the desk's public key)
// and decrypts the body with the subscription's private key it made (Node's ECDH, HKDF,
// AES-128-GCM) to find the visitor's message. No push while the agent's inbox is open; a 410
// forgets the subscription; a 500 is retried; bad subscription frames are refused, nothing stored.
import assert from 'node:assert/strict';
import { createECDH, createPublicKey, generateKeyPairSync, hkdfSync, createDecipheriv, randomBytes, verify } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare } from '../helpers/desk.js';
import { admin, agentSocket, newAgent, say, visitor, where } from './flows.js';

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const SUBJECT = 'mailto:ops@example.com';

/** A VAPID key pair as `scripts/vapid-keys.js` writes one. */
function vapidKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return { publicKey: b64u(point), privateKey: jwk.d, keyObject: publicKey };
}

/** The push service: records every request; answers each path by its plan (default 201). */
function pushService() {
  const requests = [];
  const waiting = [];
  const plans = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const entry = { method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      const plan = plans.get(req.url) ?? [];
      const status = plan.length ? plan.shift() : 201;
      entry.status = status;
      res.writeHead(status).end();
      requests.push(entry);
      for (const w of [...waiting]) {
        if (w.check(entry)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(entry); }
      }
    });
  });
  return {
    requests,
    plan: (path, statuses) => plans.set(path, [...statuses]),
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port))),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
    /** Request number `skip` (from 0) for `path`, seen or to come (at most `timeout` ms away). */
    next(path, skip = 0, timeout = 20_000) {
      const seen = requests.filter((r) => r.path === path);
      if (seen.length > skip) return Promise.resolve(seen[skip]);
      let count = seen.length;
      return new Promise((resolve, reject) => {
        const w = { resolve: (r) => { clearTimeout(timer); resolve(r); }, check: (r) => r.path === path && count++ >= skip };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(w), 1);
          reject(new Error(`no push #${skip + 1} to ${path} within ${timeout} ms; got ${requests.map((r) => `${r.path} ${r.status}`).join(', ') || 'none'}`));
        }, timeout);
        waiting.push(w);
      });
    },
  };
}

/** A browser's subscription: its own P-256 key pair and auth secret. */
function browser(endpoint) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, frame: { type: 'push_subscribe', endpoint, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } } };
}

/** RFC 8291 / RFC 8188, the receiving side. */
function decrypt(body, { ecdh, auth }) {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  assert.ok(record.length <= rs, 'one record');
  const secret = ecdh.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  assert.equal(plain[plain.length - 1], 2, 'the last record\'s delimiter');
  return JSON.parse(plain.subarray(0, plain.length - 1).toString('utf8'));
}

/** Checks the VAPID header against the desk's key, the push service's origin and the clock. */
function checkVapid(header, vapid, origin) {
  const m = /^vapid t=([^,]+), k=(.+)$/.exec(header ?? '');
  assert.ok(m, `Authorization: ${header}`);
  const [, jwt, k] = m;
  assert.equal(k, vapid.publicKey);
  const [h, c, s] = jwt.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { typ: 'JWT', alg: 'ES256' });
  const claims = JSON.parse(Buffer.from(c, 'base64url'));
  assert.equal(claims.aud, origin);
  assert.equal(claims.sub, SUBJECT);
  const now = Date.now() / 1000;
  assert.ok(claims.exp > now && claims.exp <= now + 24 * 3600, `exp ${claims.exp} within 24 h`);
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(k, 'base64url').subarray(1, 33).toString('base64url'), y: Buffer.from(k, 'base64url').subarray(33).toString('base64url') }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')), 'ES256 signature');
}

const vapid = vapidKeys();
const service = pushService();
let runtime;
let origin;
before(async () => {
  const port = await service.listen();
  origin = `http://127.0.0.1:${port}`;
  runtime = await startMiniflare({
    bindings: {
      VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: SUBJECT,
      // A window wide enough that two frames sent back to back always share it, however
      // loaded the machine; the test waits for the push itself, never for the window.
      PUSH_ALLOW_LOOPBACK_HTTP: '1', PUSH_BATCH_MS: '400', PUSH_RETRY_MS: '20',
    },
  });
});
after(async () => { await runtime?.dispose(); await service.close(); });

const answer = (a, frame) => {
  a.send(frame);
  return a.next(where(`${frame.type}: push or error`, (f) => f.type === 'push' || f.type === 'error'));
};

test('a visitor\'s message reaches a subscribed agent whose inbox is closed, encrypted and signed', async () => {
  const desk = deskName('push');
  const b = browser(`${origin}/push/owner-${desk}`);
  const a = await admin(runtime.url, desk);
  assert.deepEqual(await answer(a, { type: 'push' }), { type: 'push', enabled: true, publicKey: vapid.publicKey, subscriptions: 0 });
  assert.deepEqual(await answer(a, b.frame), { type: 'push', enabled: true, publicKey: vapid.publicKey, subscriptions: 1 });
  await a.close();

  const v = await visitor(runtime.url, desk, { name: 'Dana' });
  // Back to back (the acks awaited after): both land in the batch the first one opened.
  await Promise.all([say(v, 'Is the <b>blue</b> one in stock?'), say(v, 'Size 42 please')]);
  const got = await service.next(`/push/owner-${desk}`);
  assert.equal(got.method, 'POST');
  assert.equal(got.headers['content-encoding'], 'aes128gcm');
  assert.equal(got.headers['content-type'], 'application/octet-stream');
  assert.ok(Number(got.headers.ttl) > 0, `TTL ${got.headers.ttl}`);
  assert.equal(got.headers.urgency, 'high');
  checkVapid(got.headers.authorization, vapid, origin);
  const note = decrypt(got.body, b);
  assert.equal(note.title, 'Dana');
  assert.equal(note.userId, v.userId);
  assert.equal(note.event, 'message');
  assert.match(note.body, /^Size 42 please \(\+1 more\)$/, 'one push for the batch: the latest text and the count');
  assert.equal(service.requests.filter((r) => r.path === got.path).length, 1, 'one push per window');
  await v.close();
});

test('no push while the agent\'s inbox is open; a second agent with the inbox closed is pushed', async () => {
  const desk = deskName('push-open');
  const owner = browser(`${origin}/push/open-owner-${desk}`);
  const ana = browser(`${origin}/push/ana-${desk}`);
  const a = await admin(runtime.url, desk);
  await answer(a, owner.frame);
  const agent = await newAgent(runtime.url, desk, a, { name: 'Ana' });
  const anaInbox = await agentSocket(runtime.url, desk, agent);
  assert.equal((await answer(anaInbox, ana.frame)).subscriptions, 1);
  await anaInbox.close();

  for (const [i, name] of ['Eve', 'Finn'].entries()) {
    const v = await visitor(runtime.url, desk, { name });
    await say(v, `hello from ${name}`);
    const got = await service.next(`/push/ana-${desk}`, i);
    assert.equal(decrypt(got.body, ana).title, name);
    await v.close();
  }
  // Finn's push came after Eve's batch was done: the owner's inbox, open all along, got none.
  assert.equal(service.requests.filter((r) => r.path === `/push/open-owner-${desk}`).length, 0);
  await a.close();
});

test('a 410 forgets the subscription; a 500 is retried', async () => {
  const desk = deskName('push-gone');
  const gone = browser(`${origin}/push/gone-${desk}`);
  const flaky = browser(`${origin}/push/flaky-${desk}`);
  service.plan(`/push/gone-${desk}`, [410]);
  service.plan(`/push/flaky-${desk}`, [500]);
  let a = await admin(runtime.url, desk);
  await answer(a, gone.frame);
  assert.equal((await answer(a, flaky.frame)).subscriptions, 2);
  await a.close();

  const v = await visitor(runtime.url, desk, { name: 'Gil' });
  await say(v, 'anyone?');
  assert.equal((await service.next(`/push/gone-${desk}`)).status, 410);
  assert.equal((await service.next(`/push/flaky-${desk}`)).status, 500);
  const retried = await service.next(`/push/flaky-${desk}`, 1);
  assert.equal(retried.status, 201);
  assert.equal(decrypt(retried.body, flaky).body, 'anyone?');

  // The 410 was answered before the retry was sent: its subscription is gone by now.
  a = await admin(runtime.url, desk);
  assert.equal((await answer(a, { type: 'push' })).subscriptions, 1, 'only the flaky browser is left');
  assert.equal(service.requests.filter((r) => r.path === `/push/gone-${desk}`).length, 1);
  await a.close();
  await v.close();
});

test('bad subscription frames are refused with a clear error and nothing is stored', async () => {
  const desk = deskName('push-bad');
  const a = await admin(runtime.url, desk);
  const good = browser(`${origin}/push/x`).frame;
  const cases = [
    [{ ...good, endpoint: 'http://push.example.net/x' }, 'bad_subscription'],
    [{ ...good, endpoint: 'javascript:alert(1)' }, 'bad_subscription'],
    [{ ...good, endpoint: `https://u:p@push.example.net/${'x'.repeat(10)}` }, 'bad_subscription'],
    [{ ...good, endpoint: `https://push.example.net/${'x'.repeat(2000)}` }, 'bad_subscription'],
    [{ ...good, keys: { p256dh: 'AAAA', auth: good.keys.auth } }, 'bad_subscription'],
    [{ ...good, keys: { p256dh: good.keys.p256dh, auth: b64u(randomBytes(8)) } }, 'bad_subscription'],
    [{ type: 'push_subscribe', endpoint: good.endpoint }, 'bad_frame'],
  ];
  for (const [frame, code] of cases) {
    const err = await answer(a, frame);
    assert.equal(err.type, 'error', JSON.stringify(frame).slice(0, 80));
    assert.equal(err.code, code);
    assert.ok(err.message.length > 10, err.message);
  }
  for (let i = 0; i < 10; i++) await answer(a, browser(`https://push.example.net/sub/${i}`).frame);
  const over = await answer(a, browser('https://push.example.net/sub/10').frame);
  assert.equal(over.code, 'too_many');
  assert.equal((await answer(a, { type: 'push' })).subscriptions, 10, 'the refused ones were not stored');
  assert.equal((await answer(a, { type: 'push_unsubscribe', endpoint: 'https://push.example.net/sub/0' })).subscriptions, 9);
  await a.close();
});

test('without VAPID keys push is off and says so', async () => {
  const off = await startMiniflare({ bindings: {} });
  try {
    const a = await admin(off.url, deskName('push-off'));
    assert.deepEqual(await answer(a, { type: 'push' }), { type: 'push', enabled: false, subscriptions: 0 });
    const err = await answer(a, browser('https://push.example.net/y').frame);
    assert.equal(err.code, 'push_disabled');
    await a.close();
  } finally {
    await off.dispose();
  }
});

test('an unanswered conversation rings the subscribed agent too (the detection email and webhooks use)', async () => {
  // Its own runtime: the unanswered rule is made short here (the other tests count their pushes).
  const rt = await startMiniflare({
    bindings: {
      VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: SUBJECT,
      PUSH_ALLOW_LOOPBACK_HTTP: '1', PUSH_BATCH_MS: '50', PUSH_RETRY_MS: '20', UNANSWERED_MS: '300',
    },
  });
  try {
    const desk = deskName('push');
    const b = browser(`${origin}/push/unanswered-${desk}`);
    const a = await admin(rt.url, desk);
    await answer(a, b.frame);
    await a.close();
    const v = await visitor(rt.url, desk, { name: 'Eve' });
    await say(v, 'Hello? Is anyone there?');
    const pushes = [await service.next(`/push/unanswered-${desk}`, 0), await service.next(`/push/unanswered-${desk}`, 1)];
    const notes = pushes.map((p) => decrypt(p.body, b));
    assert.deepEqual(notes.map((n) => n.event).sort(), ['conversation.unanswered', 'message']);
    const unanswered = notes.find((n) => n.event === 'conversation.unanswered');
    assert.equal(unanswered.userId, v.userId);
    assert.equal(unanswered.title, 'Eve');
    assert.match(unanswered.body, /^Waiting for an answer for \d+ min$/);
    await v.close();
  } finally {
    await rt.dispose();
  }
});
