// Email in workerd, through Miniflare's local `send_email` simulation (each message an .eml file,
// read back here): the visitor's follow-up when an agent replied after it left (recipient, From,
// subject, the replies, the agent's name, the link back, one email per burst), the unsubscribe
// link honoured, nothing while the visitor has a socket open or left no address, the per-visitor
// limit refused and logged, unanswered alerts to the opted-in agent only and once per wait, and a
// follow-up still sent after the runtime restarts. Delays are made tiny by variables; the tests
// wait for the desk's log lines, never for time.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, sentEmails, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, newAgent, reply, say, visitor, where } from './flows.js';

const DESK = deskName('mail');
const VARS = { FOLLOWUP_AFTER_MS: '1500', UNANSWERED_MS: '1500', MAIL_PER_VISITOR_DAY: '1', SOCKET_STALE_MS: '60000' };
let runtime;
before(async () => { runtime = await startMiniflare({ email: true, bindings: VARS }); });
after(async () => { await runtime?.dispose(); });

/** Quoted-printable or base64 bodies decoded, so assertions read the text. */
function decoded(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  let body = rest.join('\n\n');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(head)) {
    body = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  } else if (/Content-Transfer-Encoding: base64/i.test(head)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { head, body };
}
const to = (address) => async () => (await sentEmails(runtime)).filter((m) => m.raw.includes(`To: <${address}>`));

/** A visitor who wrote, left `email` (unless none), reported a page, then closed its socket. */
async function leftVisitor(url, desk, { email, page = 'https://shop.example/pricing?plan=pro' } = {}) {
  const v = await visitor(url, desk);
  await say(v, 'Is there a student discount?');
  if (email) {
    v.send({ type: 'email', email });
    await v.next(where('email_saved', (f) => f.type === 'email_saved'));
  }
  v.send({ type: 'context', url: page, title: 'Pricing' });
  await say(v, 'thanks'); // frames are handled in order: the context is stored
  await v.close();
  return v;
}

test('a visitor who left gets one email for a burst of replies, with the link back and unsubscribe', async () => {
  const address = 'visitor.one@example.org';
  const v = await leftVisitor(runtime.url, DESK, { email: address });
  const a = await admin(runtime.url, DESK);
  await reply(a, v.userId, 'Yes: 20% off with a student card.');
  await reply(a, v.userId, 'Just write to us from your school address.');
  await runtime.waitForLog(`mail: follow-up sent for ${v.userId} (2 replies)`);
  const mails = await to(address)();
  assert.equal(mails.length, 1, 'one email for two replies');
  const { head, body } = decoded(mails[0].raw);
  assert.match(head, /^From: "Desk Support" <support@desk\.test>/m);
  assert.match(head, /^Subject: Owner replied to your messages/m);
  assert.match(head, /^List-Unsubscribe: <http:\/\/desk\.test\/desks\/[^/]+\/unsubscribe\?u=[0-9a-f-]+&sig=[0-9a-f]+>/m);
  assert.match(head, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
  assert.match(body, /Owner wrote:/);
  assert.match(body, /> Yes: 20% off with a student card\./);
  assert.match(body, /> Just write to us from your school address\./);
  assert.match(body, /https:\/\/shop\.example\/pricing\?plan=pro#support-chat/, 'the link back opens the chat on its page');

  // The per-visitor daily limit (1 here) refuses the next one, and says so.
  await reply(a, v.userId, 'One more thing.');
  await runtime.waitForLog(`mail: follow-up for ${v.userId} refused: visitor_limit`);
  assert.equal((await to(address)()).length, 1, 'refused: no second email today');
  await a.close();
});

test('the unsubscribe link: GET asks, POST unsubscribes, and no email follows', async () => {
  const address = 'visitor.two@example.org';
  const v = await leftVisitor(runtime.url, DESK, { email: address });
  const a = await admin(runtime.url, DESK);
  await reply(a, v.userId, 'First answer.');
  await runtime.waitForLog(`mail: follow-up sent for ${v.userId} (1 replies)`);
  const [mail] = await to(address)();
  const link = /^List-Unsubscribe: <http:\/\/desk\.test([^>]+)>/m.exec(mail.raw)[1];

  const page = await fetch(`${runtime.url}${link}`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<button type="submit">Unsubscribe<\/button>/, 'GET shows a button, unsubscribes nobody');
  const forged = await fetch(`${runtime.url}${link.replace(/sig=[0-9a-f]{4}/, 'sig=0000')}`, { method: 'POST' });
  assert.equal(forged.status, 403, 'a changed signature is refused');
  const done = await fetch(`${runtime.url}${link}`, { method: 'POST', body: 'List-Unsubscribe=One-Click' });
  assert.equal(done.status, 200);
  assert.match(await done.text(), /You are unsubscribed/);

  await reply(a, v.userId, 'Second answer, after unsubscribing.');
  await runtime.waitForLog(`mail: follow-up for ${v.userId} passed over: unsubscribed`);
  assert.equal((await to(address)()).length, 1, 'nothing after unsubscribing');
  await a.close();
});

test('no email while the visitor has a socket open; one once it has left', async () => {
  const address = 'visitor.three@example.org';
  const v = await visitor(runtime.url, DESK);
  await say(v, 'hello?');
  v.send({ type: 'email', email: address });
  await v.next(where('email_saved', (f) => f.type === 'email_saved'));
  const a = await admin(runtime.url, DESK);
  await reply(a, v.userId, 'Hi, we are here.');
  await runtime.waitForLog(`mail: ${v.userId} has a socket open: no follow-up yet`);
  assert.equal((await to(address)()).length, 0, 'the open socket delivered it');
  await v.close();
  await runtime.waitForLog(`mail: follow-up sent for ${v.userId} (1 replies)`);
  const mails = await to(address)();
  assert.equal(mails.length, 1);
  assert.match(decoded(mails[0].raw).body, /> Hi, we are here\./);
  await a.close();
});

test('no email for a visitor who left no address', async () => {
  const before = (await sentEmails(runtime)).length;
  const v = await leftVisitor(runtime.url, DESK);
  const a = await admin(runtime.url, DESK);
  await reply(a, v.userId, 'Anyone there?');
  await runtime.waitForLog(`mail: follow-up for ${v.userId} passed over: no_address`);
  assert.equal((await sentEmails(runtime)).length, before);
  await a.close();
});

test('unanswered: the agent who opted in gets one email per wait, the others none', async () => {
  const desk = deskName('unans');
  const owner = await admin(runtime.url, desk);
  const ana = await newAgent(runtime.url, desk, owner, { name: 'Ana', email: 'ana@team.example' });
  owner.send({ type: 'email_alerts' });
  assert.deepEqual(await owner.next(where('email_alerts', (f) => f.type === 'email_alerts')),
    { type: 'email_alerts', unanswered: false, email: null, emailEnabled: true });
  owner.send({ type: 'email_alerts', unanswered: true, email: 'Owner@Team.example' });
  assert.deepEqual(await owner.next(where('email_alerts', (f) => f.type === 'email_alerts')),
    { type: 'email_alerts', unanswered: true, email: 'owner@team.example', emailEnabled: true });
  assert.ok(ana.agentId);

  const v = await visitor(runtime.url, desk);
  await say(v, 'Is anyone there?');
  await runtime.waitForLog('mail: unanswered alert sent to owner');
  await say(v, 'Hello again?'); // the same wait: no second alert
  const mine = to('owner@team.example');
  assert.equal((await mine()).length, 1);
  const { head, body } = decoded((await mine())[0].raw);
  assert.match(head, /^Subject: Visitor [0-9A-F]+ has waited 1 min for a reply/m);
  assert.match(body, /Open the inbox: http:\/\/desk\.test\/admin\/chat\//);
  assert.equal((await to('ana@team.example')()).length, 0, 'Ana did not opt in');

  // An agent's reply ends the wait; the visitor's next message starts a new one.
  await reply(owner, v.userId, 'Sorry, here now.');
  await say(v, 'Great, one more question.');
  await runtime.waitForLog('mail: unanswered alert sent to owner', { count: 2 });
  assert.equal((await mine()).length, 2, 'one alert per wait');
  assert.equal(runtime.logs.count(`mail: conversation ${v.userId} unanswered since seq`), 2);
  await v.close();
  await owner.close();
});

test('a follow-up due when the runtime stops is sent after it restarts', async () => {
  const persistDir = tempDir('desk-mail-');
  const desk = deskName('mailrestart');
  const vars = { ...VARS, FOLLOWUP_AFTER_MS: '3000' };
  let first = await startMiniflare({ email: true, persistDir, bindings: vars });
  const address = 'visitor.four@example.org';
  let v;
  try {
    v = await leftVisitor(first.url, desk, { email: address });
    const a = await admin(first.url, desk);
    await reply(a, v.userId, 'Answer before the restart.');
    await a.close();
  } finally {
    await first.dispose();
  }
  const second = await startMiniflare({ email: true, persistDir, bindings: vars });
  try {
    // Any request wakes the desk; its alarm, stored in SQLite's storage, fires in the new runtime.
    await fetch(`${second.url}/desks/${desk}/status`);
    await second.waitForLog(`mail: follow-up sent for ${v.userId} (1 replies)`, { timeout: 20_000 });
    const mails = (await sentEmails(second)).filter((m) => m.raw.includes(`To: <${address}>`));
    assert.equal(mails.length, 1);
    assert.match(decoded(mails[0].raw).body, /> Answer before the restart\./);
  } finally {
    await second.dispose();
  }
});
