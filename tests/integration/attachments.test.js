// Attachments against real workerd and a real (local) R2 bucket: uploads by a visitor (ticket) and
// an agent (Bearer), recorded as messages with `attachment`; refusals (another conversation, a
// type off the list or bytes that lie about it, too large, no length, rate and storage limits);
// signed URLs (served with their headers, expired, tampered); deleting the conversation empties R2.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, ATTACHMENT_SECRET, ATTACHMENTS_BUCKET, deskName, requestTicket, startMiniflare, where } from '../helpers/desk.js';
import { admin, closeAll, history, refusal, removedOf, say, visitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare(); });
after(async () => { await desk?.dispose(); });

/** The smallest PNG header, then some bytes: what a screenshot starts with. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
const PDF = Buffer.from('%PDF-1.4\n% a tiny document\n');

/** A visitor's upload as the widget does it: a ticket for its token, then the file. */
async function visitorUpload(url, name, v, body, { file = 'shot.png', type = 'image/png', userId, ticket, length } = {}) {
  const t = ticket ?? (await requestTicket(url, name, { kind: 'visitor', body: { token: v.token } })).body.ticket;
  const q = new URLSearchParams({ ticket: t, name: file, type, ...(userId ? { userId } : {}) });
  return post(`${url}/desks/${name}/visitor/upload?${q}`, body, {}, { length });
}

/** An agent's upload as the inbox does it: its credential in Authorization, the conversation named. */
async function agentUpload(url, name, userId, body, { file = 'invoice.pdf', type = 'application/pdf', token = ADMIN_TOKEN } = {}) {
  const q = new URLSearchParams({ userId, name: file, type });
  return post(`${url}/desks/${name}/admin/upload?${q}`, body, { Authorization: `Bearer ${token}` });
}

/**
 * POSTs `body` (a Buffer, or an array of chunks sent without a Content-Length) on a connection of its
 * own: a refused upload is answered before its body is read, and that connection is not reused.
 * `length`: a Content-Length to declare instead of the body's, the body being only the start of
 * it; the answer must then come from the declaration alone (the rest is never sent). Sending a
 * whole refused body raced the desk's early answer: its reset could discard the answer unread.
 */
function post(href, body, headers = {}, { length } = {}) {
  const chunked = Array.isArray(body);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(href, {
      method: 'POST', agent: false,
      headers: { ...headers, ...(chunked ? {} : { 'Content-Length': length ?? body.length }) },
    }, (res) => {
      answered = true;
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body: parsed, headers: { get: (h) => res.headers[h.toLowerCase()] ?? null } });
        if (length !== undefined) req.destroy();
      });
    });
    // an early answer may cut the upload short: what counts is the answer, and there must be one
    req.on('error', (err) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? null : reject(err)));
    req.on('close', () => { if (!answered) reject(new Error(`POST ${new URL(href).pathname}: the connection closed without an answer`)); });
    for (const chunk of chunked ? body : [body]) req.write(chunk);
    if (length === undefined) req.end();
  });
}

async function answer(res) {
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body, headers: res.headers };
}

/** A URL for a file signed here, as the desk signs it: to test expiry without waiting. */
const signed = (name, userId, id, expiresAt) => {
  const sig = createHmac('sha256', ATTACHMENT_SECRET).update(`attachment\n${name}\n${userId}\n${id}\n${expiresAt}`).digest('hex');
  return `/desks/${name}/files/${userId}/${id}?expires=${expiresAt}&sig=${sig}`;
};

const withAttachment = (id) => where(`message with attachment ${id}`, (f) => f.type === 'message' && f.attachment?.id === id);

test('a visitor uploads an image: a message with the attachment for both sides, stored, and served through its signed URL', async () => {
  const name = deskName('upload');
  const owner = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'here is a screenshot');
  const up = await visitorUpload(desk.url, name, v, PNG, { file: '../../secret/Screen Shot.png' });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const { attachment } = up.body;
  assert.deepEqual(Object.keys(attachment).sort(), ['id', 'name', 'size', 'type']);
  assert.deepEqual([attachment.name, attachment.size, attachment.type], ['Screen Shot.png', PNG.length, 'image/png'], 'the name is made safe');
  assert.equal(up.headers.get('access-control-allow-origin'), '*', 'the widget on a customer site reads the answer');

  const toVisitor = await v.next(withAttachment(attachment.id));
  assert.deepEqual([toVisitor.sender, toVisitor.message, toVisitor.attachment], ['user', 'Screen Shot.png', attachment]);
  const toAgents = await owner.next(withAttachment(attachment.id));
  assert.equal(toAgents.userId, v.userId);
  const stored = (await history(owner, v.userId)).messages.find((m) => m.attachment);
  assert.deepEqual([stored.id, stored.attachment], [up.body.id, attachment], 'stored before it was answered');

  const file = await fetch(`${desk.url}${up.body.url}`);
  assert.equal(file.status, 200);
  assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);
  assert.equal(file.headers.get('content-type'), 'image/png');
  assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
  assert.match(file.headers.get('content-disposition'), /^inline; filename="Screen Shot.png"/, 'an image is shown inline (thumbnails)');
  assert.match(file.headers.get('content-security-policy'), /default-src 'none'; sandbox/);
  assert.match(file.headers.get('cache-control'), /^private, max-age=\d+$/);
  assert.ok(up.body.expiresAt > Date.now());
  await closeAll(owner, v);
});

test('an agent uploads a PDF: the visitor gets it; files are downloads, never inline; URLs come from attachment_url', async () => {
  const name = deskName('agent-upload');
  const owner = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'can I have the invoice?');
  const up = await agentUpload(desk.url, name, v.userId, PDF);
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const got = await v.next(withAttachment(up.body.attachment.id));
  assert.deepEqual([got.sender, got.agentName, got.attachment.type], ['admin', 'Owner', 'application/pdf']);

  v.send({ type: 'attachment_url', id: got.attachment.id });
  const link = await v.next('attachment_url');
  assert.equal(link.id, got.attachment.id);
  assert.ok(link.expiresAt > Date.now());
  const file = await fetch(`${desk.url}${link.url}`);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'application/pdf');
  assert.equal(file.headers.get('content-disposition'), 'attachment; filename="invoice.pdf"; filename*=UTF-8\'\'invoice.pdf');
  assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
  await closeAll(owner, v);
});

test('refused: another conversation, a type off the list, bytes that lie, too large, no length; the URL of another conversation', async () => {
  const name = deskName('refusals');
  const a = await visitor(desk.url, name);
  const b = await visitor(desk.url, name);
  await say(a, 'a');
  await say(b, 'b');
  const other = await visitorUpload(desk.url, name, a, PNG, { userId: b.userId });
  assert.deepEqual([other.status, other.body.code], [403, 'forbidden'], 'a visitor names only its own conversation');
  const html = await visitorUpload(desk.url, name, a, Buffer.from('<html><script>alert(1)</script>'), { type: 'text/html', file: 'x.html' });
  assert.deepEqual([html.status, html.body.code], [415, 'bad_type']);
  const svg = await visitorUpload(desk.url, name, a, Buffer.from('<svg/>'), { type: 'image/svg+xml', file: 'x.svg' });
  assert.deepEqual([svg.status, svg.body.code], [415, 'bad_type'], 'no SVG');
  const lie = await visitorUpload(desk.url, name, a, Buffer.from('<html>not a png</html>'));
  assert.deepEqual([lie.status, lie.body.code], [415, 'bad_type'], 'an image must start with its magic bytes');
  const big = await visitorUpload(desk.url, name, a, PNG, { length: 10 * 1024 * 1024 + 1 });
  assert.deepEqual([big.status, big.body.code], [413, 'too_large']);
  const chunked = await visitorUpload(desk.url, name, a, [PNG.subarray(0, 8), PNG.subarray(8)]);
  assert.deepEqual([chunked.status, chunked.body.code], [411, 'length_required']);
  const noTicket = await visitorUpload(desk.url, name, a, PNG, { ticket: 'not-a-ticket' });
  assert.deepEqual([noTicket.status, noTicket.body.code], [401, 'unauthorized']);
  const agentNoTarget = await post(`${desk.url}/desks/${name}/admin/upload?type=image/png&name=x.png`, PNG,
    { Authorization: `Bearer ${ADMIN_TOKEN}` });
  assert.deepEqual([agentNoTarget.status, agentNoTarget.body.code], [400, 'bad_request']);
  const wrongToken = await agentUpload(desk.url, name, a.userId, PDF, { token: 'x'.repeat(40) });
  assert.equal(wrongToken.status, 401);

  const ok = await visitorUpload(desk.url, name, a, PNG);
  assert.equal(ok.status, 201);
  assert.equal((await refusal(b, { type: 'attachment_url', id: ok.body.attachment.id })).code, 'forbidden');
  assert.equal((await refusal(b, { type: 'attachment_url', id: 'no-such-file' })).code, 'unknown_attachment');
  const h = await history(a);
  assert.equal(h.messages.filter((m) => m.attachment).length, 1, 'nothing refused was stored');
  await closeAll(a, b);
});

test('signed URLs: an expired one is 403 expired; a changed one is 403 bad_signature', async () => {
  const name = deskName('urls');
  const v = await visitor(desk.url, name);
  await say(v, 'hi');
  const up = await visitorUpload(desk.url, name, v, PNG);
  const { id } = up.body.attachment;
  const ok = await fetch(`${desk.url}${signed(name, v.userId, id, Date.now() + 60_000)}`);
  assert.equal(ok.status, 200, 'signed with the deployment secret: served');
  const expired = await answer(await fetch(`${desk.url}${signed(name, v.userId, id, Date.now() - 1)}`));
  assert.deepEqual([expired.status, expired.body.code], [403, 'expired']);
  const url = new URL(up.body.url, desk.url);
  const tampered = [
    url.href.replace(/sig=([0-9a-f])/, (_, c) => `sig=${c === '0' ? '1' : '0'}`),
    url.href.replace(/expires=(\d+)/, (_, e) => `expires=${Number(e) + 1000}`),
    url.href.replace(v.userId, 'someone-else'),
    url.href.replace(`/desks/${name}/`, `/desks/${name}x/`),
    url.href.replace(/&sig=.*/, ''),
  ];
  for (const href of tampered) {
    const res = await answer(await fetch(href));
    assert.deepEqual([res.status, res.body.code], [403, 'bad_signature'], href);
  }
  await closeAll(v);
});

test('deleting a conversation removes its files from R2', async () => {
  const name = deskName('delete-files');
  const owner = await admin(desk.url, name);
  const v = await visitor(desk.url, name);
  await say(v, 'photo coming');
  const up = await visitorUpload(desk.url, name, v, PNG);
  assert.equal(up.status, 201);
  const bucket = await desk.mf.getR2Bucket(ATTACHMENTS_BUCKET);
  const key = `${name}/${v.userId}/${up.body.attachment.id}`;
  assert.ok(await bucket.head(key), 'stored in R2 under {desk}/{userId}/{id}');
  const purged = desk.logs.count('attachments purged');
  owner.send({ type: 'delete', userId: v.userId });
  await owner.next(removedOf(v.userId));
  await desk.logs.waitFor('attachments purged', { since: 0, count: purged + 1 });
  assert.equal(await bucket.head(key), null, 'the object is gone');
  const res = await answer(await fetch(`${desk.url}${up.body.url}`));
  assert.equal(res.status, 404, 'its URL finds nothing');
  await closeAll(owner);
});

test('limits: uploads per hour, a conversation full of files', async () => {
  const limited = await startMiniflare({ bindings: { UPLOADS_PER_HOUR: '2', ATTACHMENT_MB_PER_CONVERSATION: '0.0002' } });
  try {
    const name = deskName('limits');
    const v = await visitor(limited.url, name);
    await say(v, 'hi');
    assert.equal((await visitorUpload(limited.url, name, v, PNG)).status, 201);
    const full = await visitorUpload(limited.url, name, v, Buffer.concat([PNG, Buffer.alloc(100)]));
    assert.deepEqual([full.status, full.body.code], [507, 'storage_full'], 'about 200 bytes per conversation');
    assert.equal((await visitorUpload(limited.url, name, v, PNG)).status, 201);
    const third = await visitorUpload(limited.url, name, v, PNG);
    assert.deepEqual([third.status, third.body.code], [429, 'rate_limited']);
    assert.ok(third.body.retryAfterMs > 0 && third.headers.get('retry-after'));
    await closeAll(v);
  } finally {
    await limited.dispose();
  }
});
