// The shared client module (client/protocol.js, client/text.js) against the desk it speaks to: its constants read back from the Rust sources they mirror, no client keeping its own copy, and its rules (backoff, outbox, links) run in Node without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import {
  SUBPROTOCOL, TICKET_PREFIX, MAX_MESSAGE_CHARS, PING_FRAME, PING_INTERVAL_MS, CLOSE_STALE, CLOSE_REVOKED,
  CLOSE_REMOVED, BACKOFF_FIRST_MS, BACKOFF_MAX_MS, SEND_STATE_LABELS, backoffDelay, createOutbox, socketUrl,
  subprotocols, sendStateLabel, IDLE_MS, MAX_EMAIL_CHARS, looksLikeEmail, DAYS, emailFrame, settingsUpdateFrame,
} from '../../client/protocol.js';
import * as wire from '../../client/protocol.js';
import { linkParts, withoutBidiControls } from '../../client/text.js';

const ROOT = new URL('../../', import.meta.url);
const source = (path) => readFileSync(new URL(path, ROOT), 'utf8');

/** The value of `const NAME: TYPE = VALUE;` in a Rust file: a string (plain or raw) or an integer. */
function rustConst(path, name) {
  const m = new RegExp(`const ${name}: [^=]+= (r#"(.*?)"#|"((?:[^"\\\\]|\\\\.)*)"|([0-9_]+));`).exec(source(path));
  assert.ok(m, `${name} in ${path}`);
  if (m[2] !== undefined) return m[2];
  if (m[3] !== undefined) return JSON.parse(`"${m[3]}"`);
  return Number(m[4].replaceAll('_', ''));
}

test('the client module\'s constants are the desk\'s: subprotocols, the message limit, the ping frame, close codes', () => {
  assert.equal(SUBPROTOCOL, rustConst('src/auth.rs', 'SUBPROTOCOL'));
  assert.equal(TICKET_PREFIX, rustConst('src/auth.rs', 'TICKET_SUBPROTOCOL_PREFIX'));
  assert.equal(MAX_MESSAGE_CHARS, rustConst('src/protocol.rs', 'MAX_MESSAGE_CHARS'));
  assert.equal(PING_FRAME, rustConst('src/protocol.rs', 'PING_FRAME'));
  assert.equal(CLOSE_REMOVED, rustConst('src/desk/moderation.rs', 'CLOSE_REMOVED'));
  assert.equal(IDLE_MS, rustConst('src/desk/availability.rs', 'IDLE_MS'));
  assert.equal(MAX_EMAIL_CHARS, rustConst('src/protocol.rs', 'MAX_EMAIL_CHARS'));
  // the two codes the Rust side writes where it closes, not as named constants
  assert.match(source('src/desk/team.rs'), new RegExp(`CloseAgent \\{[^}]*code: ${CLOSE_REVOKED},[^}]*"access revoked"`));
  assert.match(source('src/desk_object/sweep.rs'), new RegExp(`ws\\.close\\(Some\\(${CLOSE_STALE}\\), Some\\("no ping`));
});

test('the ping interval fits three pings in the desk\'s stale window, as src/session/liveness.rs assumes', () => {
  const stale = rustConst('src/session/liveness.rs', 'DEFAULT_STALE_AFTER_MS');
  assert.ok(PING_INTERVAL_MS * 3 <= stale, `${PING_INTERVAL_MS} ms × 3 within ${stale} ms`);
  assert.match(source('src/session/liveness.rs'), new RegExp(`Clients ping every ${PING_INTERVAL_MS / 1000} s`));
});

test('no client keeps its own copy of the wire\'s constants: widget and inbox take them from client/', () => {
  const clientFiles = [
    ...readdirSync(new URL('widget/', ROOT)).filter((f) => /\.js$/.test(f)).map((f) => 'widget/' + f),
    ...readdirSync(new URL('admin/', ROOT)).filter((f) => /\.(js|html)$/.test(f)).map((f) => 'admin/' + f),
  ];
  for (const file of clientFiles) {
    const text = source(file);
    for (const copy of ['support-desk.v1', 'support-desk.ticket.', '{"type":"ping"}', 'maxlength="4000"', '25000', '15000']) {
      assert.ok(!text.includes(copy), `${file} defines ${copy} itself`);
    }
    assert.doesNotMatch(text, /\u061C|\\u061C/, `${file} keeps its own list of bidi controls`);
  }
  assert.match(source('widget/chat.js'), /from '\.\.\/client\/protocol\.js'/); // the chat, loaded by widget.js
  assert.match(source('admin/socket.js'), /from '\.\.\/client\/protocol\.js'/);
  assert.match(source('admin/conversation.js'), /from '\.\.\/client\/protocol\.js'/);
});

test('one set of words for a send\'s state on both sides ("Sent", never "sent")', () => {
  assert.deepEqual(SEND_STATE_LABELS, { sending: 'Sending…', sent: 'Sent', failed: 'Not sent' });
  assert.equal(sendStateLabel(undefined), 'Sent', 'a stored message of one\'s own reads Sent');
  assert.equal(sendStateLabel('failed'), 'Not sent');
});

test('sockets: the URL per role, resume only with an epoch, the ticket in the second subprotocol', () => {
  const https = { protocol: 'https:', host: 'desk.example' }, http = { protocol: 'http:', host: '127.0.0.1:8787' };
  assert.equal(socketUrl(https, 'acme co', 'visitor'), 'wss://desk.example/desks/acme%20co/visitor');
  assert.equal(socketUrl(http, 'demo', 'admin', { since: 12, epoch: 'e1' }), 'ws://127.0.0.1:8787/desks/demo/admin?since=12&epoch=e1');
  assert.equal(socketUrl(http, 'demo', 'admin', { since: 12, epoch: '' }), 'ws://127.0.0.1:8787/desks/demo/admin');
  assert.deepEqual(subprotocols('T1'), ['support-desk.v1', 'support-desk.ticket.T1']);
});

test('reconnect backoff doubles from 700 ms up to 15 s, jittered down to half', () => {
  assert.equal(backoffDelay(0, () => 1), BACKOFF_FIRST_MS);
  assert.equal(backoffDelay(0, () => 0), BACKOFF_FIRST_MS / 2);
  assert.equal(backoffDelay(3, () => 1), 5600);
  assert.equal(backoffDelay(30, () => 1), BACKOFF_MAX_MS);
  assert.equal(backoffDelay(30, () => 0), BACKOFF_MAX_MS / 2);
});

test('the outbox: resent unchanged after a reconnect and after rate_limited\'s retryAfterMs, until acked; other refusals are final', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent = [];
  let ready = false;
  const outbox = createOutbox((entry) => { if (ready) sent.push(entry.cid); return ready; });
  const a = outbox.add({ cid: 'a', message: 'one' });
  const b = outbox.add({ cid: 'b', message: 'two' });
  assert.deepEqual(sent, [], 'nothing goes out while the socket is not ready');
  assert.equal(a.st, 'sending');
  ready = true;
  outbox.resend();
  assert.deepEqual(sent, ['a', 'b'], 'a new socket: everything waiting, oldest first');

  assert.equal(outbox.refuse({ type: 'error', code: 'rate_limited', clientMsgId: 'a', retryAfterMs: 1500 }), 'later');
  t.mock.timers.tick(1499);
  assert.deepEqual(sent, ['a', 'b']);
  t.mock.timers.tick(1);
  assert.deepEqual(sent, ['a', 'b', 'a'], 'sent again once the desk said so');

  assert.equal(outbox.refuse({ type: 'error', code: 'rate_limited', clientMsgId: 'b' }), 'later');
  assert.equal(outbox.settle('b'), b, 'acked meanwhile');
  t.mock.timers.tick(1000);
  assert.deepEqual(sent, ['a', 'b', 'a'], 'an acked send is not sent again');
  assert.equal(b.st, 'sent');

  assert.equal(outbox.refuse({ type: 'error', code: 'too_long', clientMsgId: 'a' }), 'failed');
  assert.equal(a.st, 'failed');
  assert.equal(outbox.refuse({ type: 'error', code: 'too_long', clientMsgId: 'zz' }), undefined, 'not ours');
  outbox.resend();
  assert.deepEqual(sent, ['a', 'b', 'a'], 'nothing left to resend');
});

test('links: only http(s) and mailto with a host or address, sentence punctuation left out, text otherwise', () => {
  const links = (text) => linkParts(text).filter((p) => typeof p !== 'string').map((p) => p.href);
  assert.deepEqual(linkParts('see https://shop.example/a?b=1#c.'), ['see ', { text: 'https://shop.example/a?b=1#c', href: 'https://shop.example/a?b=1#c' }, '.']);
  assert.deepEqual(links('(http://x.example/wiki/Foo_(bar)), mailto:ana@x.example!'),
    ['http://x.example/wiki/Foo_(bar)', 'mailto:ana@x.example']);
  for (const hostile of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'https://', 'mailto:', 'vbscript:x',
    'JaVaScRiPt:alert(1)//https://x.example']) {
    assert.ok(links(hostile).every((href) => /^(https?:\/\/x\.example|mailto:)/.test(href)), `${hostile}: ${links(hostile)}`);
  }
  assert.deepEqual(links('javascript:alert(1)'), []);
  assert.deepEqual(linkParts('write to help@shop.example, or see www.shop.example/faq.'), [
    'write to ', { text: 'help@shop.example', href: 'mailto:help@shop.example' }, ', or see ',
    { text: 'www.shop.example/faq', href: 'https://www.shop.example/faq' }, '.',
  ], 'a bare address is mailto:, a bare www. is https');
  assert.deepEqual(links('https://x.example/?to=ana@x.example'), ['https://x.example/?to=ana@x.example'], 'an address inside a URL stays in it');
  assert.deepEqual(links('not@an-address and a@b'), [], 'no domain, no link');
  assert.deepEqual(links('no links here'), []);
  assert.equal(linkParts('a https://x.example b').map((p) => p.text ?? p).join(''), 'a https://x.example b', 'nothing lost');
  assert.equal(withoutBidiControls('invoice\u202Efdp.exe'), 'invoicefdp.exe');
});

test('the client\'s file rules are the desk\'s: the size limit and the type allow-list (client/upload.js)', async () => {
  const { MAX_ATTACHMENT_BYTES, ATTACHMENT_TYPES, fileType, refusal } = await import('../../client/upload.js');
  const rust = source('src/attachments.rs');
  assert.match(rust, /pub const MAX_ATTACHMENT_BYTES: u64 = 10 \* 1024 \* 1024;/);
  assert.equal(MAX_ATTACHMENT_BYTES, 10 * 1024 * 1024);
  const kinds = [...rust.matchAll(/mime: "([^"]+)",\s*extensions: &\[([^\]]*)\]/g)]
    .flatMap(([, mime, exts]) => [...exts.matchAll(/"([^"]+)"/g)].map(([, ext]) => [ext, mime]));
  assert.deepEqual(Object.fromEntries(kinds), ATTACHMENT_TYPES, 'the same extensions and types, none more');
  assert.equal(fileType({ name: 'report.CSV', type: '' }), 'text/csv', 'no type from the browser: by extension');
  assert.equal(refusal({ name: 'x.svg', type: 'image/svg+xml', size: 1 }), 'bad_type');
  assert.equal(refusal({ name: 'x.png', type: 'image/png', size: MAX_ATTACHMENT_BYTES + 1 }), 'too_large');
  assert.equal(refusal({ name: 'x.png', type: 'image/png', size: 1 }), '');
});

test('who and where, and saved replies: the client\'s limits are the desk\'s', () => {
  for (const name of ['MAX_URL_CHARS', 'MAX_TITLE_CHARS', 'MAX_LANGUAGE_CHARS', 'MAX_TIME_ZONE_CHARS', 'MAX_ATTRIBUTES',
    'MAX_ATTRIBUTE_KEY_CHARS', 'MAX_ATTRIBUTE_VALUE_CHARS']) {
    assert.equal(wire[name], rustConst('src/protocol/context.rs', name), name);
  }
  for (const name of ['MAX_SAVED_REPLIES', 'MAX_REPLY_TITLE_CHARS', 'MAX_SHORTCUT_CHARS', 'MAX_REPLY_TEXT_CHARS']) {
    assert.equal(wire[name], rustConst('src/protocol/saved_replies.rs', name), name);
  }
});

test('the context frame: every field cut to the desk\'s limits, what it would refuse left out', () => {
  const frame = wire.contextFrame({
    url: 'https://shop.example/' + 'a'.repeat(3000), title: 'Pricing\n· Acme ' + 'x'.repeat(400), referrer: 'android-app://com.x',
    language: 'de-DE', timeZone: 'Europe/Berlin', attributes: undefined,
  });
  assert.equal(frame.type, 'context');
  assert.equal(frame.url.length, wire.MAX_URL_CHARS);
  assert.equal(Array.from(frame.title).length, wire.MAX_TITLE_CHARS);
  assert.ok(!/\n/.test(frame.title), 'no control characters');
  assert.equal(frame.referrer, undefined, 'only an http(s) referrer');
  assert.deepEqual([frame.language, frame.timeZone], ['de-DE', 'Europe/Berlin']);
  const odd = wire.contextFrame({ url: 'https://x.example/', title: '', referrer: '', language: 'not a tag', timeZone: '../etc' });
  assert.deepEqual(odd, { type: 'context', url: 'https://x.example/' });
  assert.deepEqual(wire.cleanAttributes({ plan: 'pro', seats: 3, nan: NaN, ok: true, nested: {}, 'bad key': 'x', long: 'y'.repeat(150) }),
    { plan: 'pro', seats: 3, long: 'y'.repeat(wire.MAX_ATTRIBUTE_VALUE_CHARS) });
  const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
  assert.equal(Object.keys(wire.cleanAttributes(many)).length, wire.MAX_ATTRIBUTES);
  assert.equal(wire.cleanAttributes({ only: null }), undefined);
});

test('the "/" shortcut: found just before the caret, matched by shortcut then title', () => {
  assert.deepEqual(wire.shortcutAt('Hi /Ref', 7), { start: 3, prefix: 'ref' });
  assert.deepEqual(wire.shortcutAt('/', 1), { start: 0, prefix: '' });
  assert.equal(wire.shortcutAt('see https://x/y', 15), null, 'a slash inside a word is not a shortcut');
  assert.equal(wire.shortcutAt('Hi /ref now', 11), null);
  const replies = [{ id: '1', shortcut: 'hours', title: 'Opening hours' }, { id: '2', shortcut: 'refund', title: 'Refund time' }];
  assert.deepEqual(wire.matchingReplies(replies, 're').map((r) => r.id), ['2']);
  assert.deepEqual(wire.matchingReplies(replies, 'r').map((r) => r.id), ['2', '1'], 'a title match after shortcut matches');
  assert.deepEqual(wire.saveReplyFrame({ title: 'T', shortcut: '/Refund', text: 'x' }), { type: 'save_reply', title: 'T', shortcut: 'refund', text: 'x' });
});

test('availability frames and the email hint agree with the desk', () => {
  assert.deepEqual(DAYS, ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
  assert.match(source('src/protocol/settings.rs'), /pub enum Day \{\s*Sun,\s*Mon,\s*Tue,\s*Wed,\s*Thu,\s*Fri,\s*Sat,/);
  for (const ok of ['ada@example.com', ' Ada@Example.co.uk ']) assert.ok(looksLikeEmail(ok), ok);
  for (const bad of ['ada', 'ada@example', 'a b@example.com', '@example.com', 'ada@.com', `${'x'.repeat(250)}@example.com`]) {
    assert.ok(!looksLikeEmail(bad), bad);
  }
  assert.deepEqual(emailFrame('a@b.io'), { type: 'email', email: 'a@b.io' });
  assert.deepEqual(emailFrame(null, 'u1'), { type: 'email', userId: 'u1', email: null });
  assert.deepEqual(settingsUpdateFrame({ type: 'x', replyTime: 'day' }), { type: 'settings_update', replyTime: 'day' });
});
