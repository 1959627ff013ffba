// Tickets: what browsers present instead of a credential. Issued for the real credential (Bearer
// for agents; token, name or identity proof in a visitor's body), good for one upgrade, on one
// desk, for at most a minute (TICKET_TTL_MS=0 makes expiry testable without waiting).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_TOKEN, IDENTITY_SECRET, connectWithTicket, deskName, requestTicket, startMiniflare, userHash,
} from '../helpers/desk.js';
import { closeAll, messageWith, newAgent, rowOf, rows, say, ticketAdmin, ticketVisitor } from './flows.js';

let desk, expiring;
before(async () => {
  [desk, expiring] = await Promise.all([
    startMiniflare({ bindings: { IDENTITY_SECRET } }),
    startMiniflare({ bindings: { TICKET_TTL_MS: '0' } }),
  ]);
});
after(async () => { await Promise.all([desk?.dispose(), expiring?.dispose()]); });

const HEX64 = /^[0-9a-f]{64}$/;

/** Asserts that an upgrade with `ticket` is refused with `status` and `code`. */
async function refused(url, name, ticket, { kind = 'visitor', status = 401, code = 'unauthorized' } = {}) {
  await assert.rejects(connectWithTicket(url, name, ticket, { kind }), (err) => {
    assert.equal(err.status, status, err.message);
    assert.equal(JSON.parse(err.body).code, code);
    return true;
  });
}

test('the inbox\'s ticket: issued for the Bearer secret, opens one admin socket, then never again', async () => {
  const name = deskName('tickets');
  const got = await requestTicket(desk.url, name, { kind: 'admin', token: ADMIN_TOKEN });
  assert.equal(got.status, 200, JSON.stringify(got.body));
  assert.match(got.body.ticket, HEX64);
  assert.equal(got.body.expiresIn, 60, 'a minute, in seconds');
  const inbox = await connectWithTicket(desk.url, name, got.body.ticket, { kind: 'admin' });
  const users = await inbox.next('users');
  assert.equal(users.me.agentId, 'owner');
  assert.equal(inbox.protocol, 'support-desk.v1', 'the ticket is never echoed');
  await refused(desk.url, name, got.body.ticket, { kind: 'admin' });

  const agent = await newAgent(desk.url, name, inbox, { name: 'Ana' });
  const ana = await ticketAdmin(desk.url, name, { token: agent.token });
  assert.equal(ana.snapshot.me.agentId, agent.agentId, 'an agent\'s own token gets a ticket for itself');

  for (const token of ['wrong', `${ADMIN_TOKEN}x`]) {
    const wrong = await requestTicket(desk.url, name, { kind: 'admin', token, headers: { 'CF-Connecting-IP': '198.51.100.7' } });
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
  }
  assert.equal((await requestTicket(desk.url, name, { kind: 'admin' })).status, 401, 'no credential, no ticket');
  const foreign = await requestTicket(desk.url, name, { kind: 'admin', token: ADMIN_TOKEN, headers: { Origin: 'https://evil.example' } });
  assert.equal(foreign.status, 403, 'a page of another site cannot get one with the admin\'s browser');
  const get = await fetch(`${desk.url}/desks/${name}/admin/ticket`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(get.status, 405);
  await closeAll(inbox, ana);
});

test('the widget\'s ticket carries the token, the name and the identity in its body, and is good once', async () => {
  const name = deskName('tickets');
  const inbox = await ticketAdmin(desk.url, name);
  const ada = await ticketVisitor(desk.url, name, { name: 'Ada Lovelace' });
  assert.match(ada.token, HEX64, 'someone new still gets a token to keep');
  await say(ada, 'Hello from Ada');
  await inbox.next(messageWith('Hello from Ada'));
  assert.equal(rowOf(await rows(desk.url, name), ada.userId).name, 'Ada Lovelace', 'the name rode in the body, not the URL');
  await refused(desk.url, name, ada.ticket);

  const back = await ticketVisitor(desk.url, name, { token: ada.token, name: 'Ada L.' },
    { since: ada.welcome.messages.at(-1)?.seq ?? 0, epoch: ada.welcome.epoch });
  assert.equal(back.userId, ada.userId, 'the same visitor');
  assert.equal(back.token, '', 'the desk keeps only the token\'s hash: the widget already holds it');
  assert.equal(back.welcome.resumed, true);
  assert.equal(rowOf(await rows(desk.url, name), ada.userId).name, 'Ada L.');

  const unknown = await requestTicket(desk.url, name, { body: { token: 'f'.repeat(64) } });
  assert.deepEqual([unknown.status, unknown.body.code], [401, 'unauthorized'], 'the widget drops a token refused here');
  const badName = await requestTicket(desk.url, name, { body: { name: '\u202Eevil' } });
  assert.deepEqual([badName.status, badName.body.code], [400, 'bad_request']);

  const identity = { userId: 'customer-42', userHash: userHash(name, 'customer-42') };
  const customer = await ticketVisitor(desk.url, name, identity);
  assert.equal(customer.welcome.verifiedId, 'customer-42');
  const phone = await ticketVisitor(desk.url, name, identity);
  assert.equal(phone.userId, customer.userId, 'one conversation per verified id, through tickets too');
  const forged = await requestTicket(desk.url, name, { body: { userId: 'customer-42', userHash: userHash(name, 'customer-43') } });
  assert.equal(forged.status, 401, 'an identity proof is checked when the ticket is issued');
  await closeAll(inbox, ada, back, customer, phone);
});

test('a ticket is for one desk and one kind of socket', async () => {
  const [a, b] = [deskName('desk-a'), deskName('desk-b')];
  const agentTicket = (await requestTicket(desk.url, a, { kind: 'admin', token: ADMIN_TOKEN })).body.ticket;
  const visitorTicket = (await requestTicket(desk.url, a, { body: { name: 'Bob' } })).body.ticket;
  await refused(desk.url, b, agentTicket, { kind: 'admin' });
  await refused(desk.url, b, visitorTicket);
  await refused(desk.url, a, agentTicket, { kind: 'visitor' });
  await refused(desk.url, a, visitorTicket, { kind: 'admin' });
  // Refusals used nothing up: both still open their own socket on their own desk.
  const inbox = await connectWithTicket(desk.url, a, agentTicket, { kind: 'admin' });
  await inbox.next('users');
  const bob = await connectWithTicket(desk.url, a, visitorTicket);
  assert.equal((await bob.next('welcome')).name, 'Bob');
  await refused(desk.url, a, 'f'.repeat(64), { kind: 'admin' });
  await closeAll(inbox, bob);
});

test('a ticket expires: with TICKET_TTL_MS=0 every ticket is expired when presented', async () => {
  const name = deskName('expired');
  const admin = await requestTicket(expiring.url, name, { kind: 'admin', token: ADMIN_TOKEN });
  assert.deepEqual([admin.status, admin.body.expiresIn], [200, 0]);
  await refused(expiring.url, name, admin.body.ticket, { kind: 'admin' });
  const visitor = await requestTicket(expiring.url, name, { body: { name: 'Late' } });
  await refused(expiring.url, name, visitor.body.ticket);
});
