// What logs keep: a Tail Worker attached to the desk (as `wrangler tail`, Workers Logs and a
// deployment's Tail Workers see every invocation) captures the inbox's and the widget's flows, done
// with the same HTTP and WebSocket calls they make. No secret, token, token hash, identity hash or
// visitor name may appear in any captured event, as the runtime redacts it or even unredacted
// (only the `Authorization` header may carry a credential: every log redacts it by name).
// A control case shows the capture would see a leak: the old subprotocol form still leaks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, IDENTITY_SECRET, connectAdmin, connectVisitor, deskName, startMiniflare, userHash } from '../helpers/desk.js';
import { closeAll, messageWith, newAgent, reply, say, ticketAdmin, ticketVisitor } from './flows.js';

let desk;
before(async () => { desk = await startMiniflare({ bindings: { IDENTITY_SECRET }, tail: true }); });
after(async () => { await desk?.dispose(); });

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const urlOf = (e) => e.item?.event?.request?.url ?? '';
const pathOf = (e) => (urlOf(e) ? new URL(urlOf(e)).pathname : '');

/** Resolves once the Tail Worker has the events of our requests: `counts` maps a path to how many
 *  requests we made to it; each gives two events (the Worker's and the desk object's), an upgrade's
 *  once its socket has closed. */
function captured(counts) {
  return Promise.all(Object.entries(counts).map(([path, n]) =>
    desk.tail.waitFor((e) => pathOf(e) === path, { count: 2 * n, description: `an event for ${path}` })));
}

/** Every place in the captured events a secret could be: the events as logged (redacted), and the
 *  requests unredacted but for the Authorization and Cookie headers. */
function capturedText() {
  return desk.tail.events.map((e) => {
    const unredacted = structuredClone(e.unredacted ?? {});
    for (const h of ['authorization', 'cookie']) if (unredacted.headers) delete unredacted.headers[h];
    return JSON.stringify(e.item) + '\n' + JSON.stringify(unredacted);
  }).join('\n');
}

function assertAbsent(text, secrets) {
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(value && value.length >= 4, `${what} is a real value`);
    const query = new URLSearchParams({ v: value }).toString().slice(2); // as in a query: spaces as '+'
    for (const form of new Set([value, encodeURIComponent(value), query, value.toUpperCase(), hex(value)])) {
      assert.ok(!text.includes(form), `${what} appears in a captured log event`);
    }
  }
}

test('the inbox\'s and the widget\'s flows leave no secret, token, hash or name in any log event', async () => {
  const name = deskName('logs');
  const visitorName = 'Zoë Quartermaine';
  const customerName = 'Bartholomew Customer';
  const identity = { userId: 'customer-4242', userHash: userHash(name, 'customer-4242') };

  const inbox = await ticketAdmin(desk.url, name); // the owner, by ADMIN_TOKEN in Authorization
  const agent = await newAgent(desk.url, name, inbox, { name: 'Ana Agent' });
  const ana = await ticketAdmin(desk.url, name, { token: agent.token });
  const zoe = await ticketVisitor(desk.url, name, { name: visitorName });
  await say(zoe, 'Hello, I need help');
  await inbox.next(messageWith('Hello, I need help'));
  await reply(ana, zoe.userId, 'Happy to help');
  await zoe.next(messageWith('Happy to help'));
  const back = await ticketVisitor(desk.url, name, { token: zoe.token, name: visitorName },
    { since: 0, epoch: zoe.welcome.epoch });
  const customer = await ticketVisitor(desk.url, name, { ...identity, name: customerName });
  await say(customer, 'Where is my order?');
  await inbox.next(messageWith('Where is my order?'));
  await closeAll(zoe, back, customer, ana, inbox);

  const at = (p) => `/desks/${name}/${p}`;
  await captured({ [at('admin/ticket')]: 2, [at('admin')]: 2, [at('visitor/ticket')]: 3, [at('visitor')]: 3, [at('agents/accept')]: 1 });
  const requests = desk.tail.events.filter((e) => urlOf(e).includes(`/desks/${name}/`));
  assert.ok(requests.length >= 22, `the Tail Worker saw the flows (${requests.length} request events)`);
  assert.ok(requests.some((e) => e.unredacted?.headers?.['sec-websocket-protocol']?.includes('support-desk.ticket.')),
    'upgrades are captured with their subprotocol header: it carries only the ticket');
  assertAbsent(capturedText(), {
    'ADMIN_TOKEN': ADMIN_TOKEN,
    'the ADMIN_TOKEN\'s hash': sha256(ADMIN_TOKEN),
    'IDENTITY_SECRET': IDENTITY_SECRET,
    'the agent\'s token': agent.token,
    'the agent\'s token hash': sha256(agent.token),
    'the visitor\'s token': zoe.token,
    'the visitor\'s token hash': sha256(zoe.token),
    'the identity hash': identity.userHash,
    'the visitor\'s name': visitorName,
    'the customer\'s name': customerName,
    'the customer\'s id': identity.userId,
  });
});

test('control: the old forms put the admin secret and a visitor\'s name in captured events (why browsers use tickets)', async () => {
  const name = deskName('logs-old');
  const old = await connectAdmin(desk.url, name, { via: 'subprotocol' });
  await old.next('users');
  const named = await connectVisitor(desk.url, name, { name: 'Oldclient Visible' });
  await named.next('welcome');
  await closeAll(old, named);
  await captured({ [`/desks/${name}/admin`]: 1, [`/desks/${name}/visitor`]: 1 });
  const text = desk.tail.events.filter((e) => urlOf(e).includes(`/desks/${name}/`)).map((e) => JSON.stringify(e.item)).join('\n');
  assert.ok(text.includes(hex(ADMIN_TOKEN)), 'the hex secret is in the logged Sec-WebSocket-Protocol header');
  assert.ok(text.includes('name=Oldclient+Visible'), 'a name in the query is logged as sent');
});
