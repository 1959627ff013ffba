// Honest availability in workerd: GET /desks/{desk}/status follows the agents' inbox sockets and
// their status, answers with a short public cache and CORS for the sites that may embed the
// widget; settings survive a restart of the runtime; a visitor's email reaches the agents; the
// away message goes once per conversation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deskName, startMiniflare, tempDir } from '../helpers/desk.js';
import { admin, cid, history, reply, rowFor, say, visitor, where } from './flows.js';

const SHOP = 'https://shop.example';
const DESK = deskName('avail');
const OTHER = deskName('avail2');
let runtime;
before(async () => {
  runtime = await startMiniflare({ bindings: { ALLOWED_ORIGINS: SHOP, DESKS: `${DESK}, ${OTHER}` } });
});
after(async () => { await runtime?.dispose(); });

const status = (url, desk, headers = {}) => fetch(`${url}/desks/${desk}/status`, { headers });
const body = async (url, desk) => (await status(url, desk)).json();
/** Asks the endpoint until `check` holds (each answer is an event; a socket's close reaches the
 *  desk just after the client sees it), at most 50 times. */
async function until(url, desk, check, what) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await body(url, desk);
    if (check(last)) return last;
  }
  assert.fail(`${what}: last answer ${JSON.stringify(last)}`);
}
const settled = (a, type) => a.next(where(type, (f) => f.type === type || f.type === 'error'));

test('availability follows the agents\' inbox sockets and their status', async () => {
  assert.deepEqual(await body(runtime.url, DESK), { online: false, agents: [], replyTime: 'minutes' }, 'nobody signed in');
  const a = await admin(runtime.url, DESK);
  assert.deepEqual(await body(runtime.url, DESK), { online: true, agents: [{ name: 'Owner', initials: 'O' }], replyTime: 'minutes' });

  a.send({ type: 'status', status: 'away' });
  assert.deepEqual(await settled(a, 'status'), { type: 'status', agentId: 'owner', status: 'away' });
  assert.equal((await body(runtime.url, DESK)).online, false, 'away, inbox open or not');
  a.send({ type: 'status', status: 'online' });
  await settled(a, 'status');
  assert.equal((await body(runtime.url, DESK)).online, true);

  await a.close();
  await until(runtime.url, DESK, (b) => b.online === false && b.agents.length === 0, 'the inbox closed');
  const again = await admin(runtime.url, DESK);
  assert.equal(again.snapshot.me.away, undefined, 'the stored status is online');
  assert.equal((await body(runtime.url, DESK)).online, true, 'a new inbox socket is available again');
  await again.close();
});

test('the status endpoint: short public cache, CORS for allowed sites, 404 for unknown desks', async () => {
  const res = await status(runtime.url, OTHER, { Origin: SHOP });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=5');
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get('access-control-allow-origin'), SHOP);
  assert.match(res.headers.get('vary'), /Origin/);
  assert.deepEqual(await res.json(), { online: false, agents: [], replyTime: 'minutes' });

  const foreign = await status(runtime.url, OTHER, { Origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal((await foreign.json()).code, 'forbidden_origin');
  const plain = await status(runtime.url, OTHER);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('access-control-allow-origin'), null, 'no Origin, no CORS header');
  await plain.arrayBuffer();

  const unknown = await status(runtime.url, deskName('nope'));
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).code, 'not_found');
  const post = await fetch(`${runtime.url}/desks/${OTHER}/status`, { method: 'POST' });
  assert.equal(post.status, 405);
  await post.arrayBuffer();
});

test('a visitor\'s email is stored, shown to agents, and the away message goes once', async () => {
  const name = OTHER;
  const owner = await admin(runtime.url, name);
  owner.send({ type: 'settings_update', awayMessage: 'We are away; we reply by email.' });
  assert.equal((await settled(owner, 'settings')).awayMessage, 'We are away; we reply by email.');
  await owner.close();
  await until(runtime.url, name, (b) => b.online === false, 'the owner left');

  const v = await visitor(runtime.url, name);
  await say(v, 'Anyone there?');
  const away = await v.next(where('the away message', (f) => f.type === 'message' && f.sender === 'admin'));
  assert.equal(away.message, 'We are away; we reply by email.');
  assert.deepEqual(away.event, { kind: 'away' }, 'visitors see only that the reply was automatic');
  await say(v, 'Hello?');
  v.send({ type: 'email', email: 'not an email' });
  assert.equal((await v.next('error')).code, 'bad_email');
  v.send({ type: 'email', email: 'Ada@Example.com' });
  assert.deepEqual(await v.next('email_saved'), { type: 'email_saved' });

  const a = await admin(runtime.url, name);
  const row = a.users.find((u) => u.userId === v.userId);
  assert.equal(row.email, 'ada@example.com', 'the row shows the email');
  const h = await history(a, v.userId);
  const automatic = h.messages.filter((m) => m.event?.kind === 'away');
  assert.equal(automatic.length, 1, 'once per conversation');
  assert.equal(h.messages.filter((m) => m.sender === 'user').length, 2);

  a.send({ type: 'email', userId: v.userId, email: 'ada@work.example' });
  assert.equal((await a.next(rowFor(v.userId))).user.email, 'ada@work.example', 'agents edit it');
  const back = await visitor(runtime.url, name, { token: v.token });
  assert.equal(back.welcome.email, 'ada@work.example', 'the widget knows not to ask again');
  await Promise.all([a.close(), v.close(), back.close()]);
});

test('settings persist across a restart of the runtime', { timeout: 60_000 }, async () => {
  const persistDir = tempDir('desk-settings-');
  const name = deskName('settings');
  let rt = await startMiniflare({ persistDir });
  try {
    const day = Math.floor(Date.now() / 86_400_000);
    const iso = (d) => new Date(d * 86_400_000).toISOString().slice(0, 10);
    const everyDay = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => ({ day: d, open: '00:00', close: '24:00' }));
    const settings = {
      timeZone: 'UTC', hours: everyDay, holidays: [iso(day), iso(day + 1)], replyTime: 'day', awayMessage: 'Closed today', unansweredMinutes: 5,
    };
    const a = await admin(rt.url, name);
    a.send({ type: 'settings_update', ...settings, clientMsgId: cid() });
    assert.deepEqual(await settled(a, 'settings'), { type: 'settings', ...settings });
    const closed = await body(rt.url, name);
    assert.deepEqual(closed, { online: false, agents: [], nextOpenAt: (day + 2) * 86_400_000, replyTime: 'day' },
      'an agent is online, but today and tomorrow are holidays: opens the day after');
    await a.close();
    await rt.dispose();

    rt = await startMiniflare({ persistDir });
    const b = await admin(rt.url, name);
    b.send({ type: 'settings' });
    assert.deepEqual(await settled(b, 'settings'), { type: 'settings', ...settings }, 'read back after the restart');
    assert.equal((await body(rt.url, name)).nextOpenAt, (day + 2) * 86_400_000);
    await b.close();
  } finally {
    await rt.dispose();
  }
});

test('unanswered while agents are online: the automatic message goes once, marked automatic', async () => {
  // Its own runtime: the unanswered rule is made short here.
  const rt = await startMiniflare({ bindings: { ALLOWED_ORIGINS: SHOP, UNANSWERED_MS: '300' } });
  try {
    const name = deskName('unanswered');
    const owner = await admin(rt.url, name);
    owner.send({ type: 'settings_update', awayMessage: 'Sorry for the wait: leave your email and we reply there.' });
    await settled(owner, 'settings');
    const v = await visitor(rt.url, name);
    await say(v, 'Anyone there?');
    // The owner's inbox is open: the desk is online, so no away message now; the wait decides.
    const auto = await v.next(where('the automatic message', (f) => f.type === 'message' && f.sender === 'admin'));
    assert.equal(auto.message, 'Sorry for the wait: leave your email and we reply there.');
    assert.deepEqual(auto.event, { kind: 'away' });
    const seen = await owner.next(where('the agents see it', (f) => f.type === 'message' && f.userId === v.userId && f.event?.kind === 'away'));
    assert.equal(seen.message, auto.message);
    // A reply ends the wait; a new wait does not send the message again (once per conversation).
    await reply(owner, v.userId, 'Here now!');
    await say(v, 'One more thing?');
    await reply(owner, v.userId, 'Sure.');
    await say(v, 'And another?');
    await rt.waitForLog(`mail: conversation ${v.userId} unanswered since seq`, { count: 2 });
    const h = await history(owner, v.userId);
    assert.equal(h.messages.filter((m) => m.event?.kind === 'away').length, 1, 'once per conversation');
    await Promise.all([owner.close(), v.close()]);
  } finally {
    await rt.dispose();
  }
});
