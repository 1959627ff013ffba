// Spoofing and handshakes, in workerd: names that pass for blank, for the desk's default name or for
// a verified customer are refused with their reason (visitors on connect, agents on profile, invite
// and accept); the desk's own origin is scheme, host and port; malformed upgrades create no visitor.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, connectVisitor, deskName, startMiniflare, upgradeStatus } from '../helpers/desk.js';
import {
  MALFORMED, acceptInvite, admin, closeAll, freshAddress, invite, noVisitorFrom, refusal, rows, rowOf, say, visitor,
} from './flows.js';

let desk;
// One new visitor per address per window: a malformed upgrade that created a visitor would use it up.
before(async () => { desk = await startMiniflare({ bindings: { NEW_VISITORS_PER_IP: '1', NEW_VISITORS_PER_MIN: '0.01' } }); });
after(async () => { await desk?.dispose(); });

const from = (ip) => ({ 'CF-Connecting-IP': ip });
const refused = (status, code, message) => (err) => {
  assert.equal(err.status, status, err.message);
  const body = JSON.parse(err.body);
  assert.equal(body.code, code, err.body);
  if (message) assert.match(body.message, message);
  return true;
};

/** Names refused for visitors and agents alike, with what the refusal says. */
const LOOK_ALIKES = [
  ['\u3164', /must show something/], // HANGUL FILLER
  ['\u2800\u2800', /must show something/], // BRAILLE PATTERN BLANK
  ['\u115F\u1160', /must show something/], // Hangul choseong and jungseong fillers
  ['\uFFA0', /must show something/], // HALFWIDTH HANGUL FILLER
  ['\u200B\u2060\uFEFF', /must show something/], // zero-width space, word joiner, BOM
  ['Ali\u3164ce', /invisible or blank look-alike/],
  ['Alice Martin ✓', /check mark/],
  ['✔ Alice', /check mark/],
  ['☑ Alice', /check mark/],
  ['Alice ✅', /check mark/],
  ['Alice (verified)', /check mark or "verified"/],
  ['Visitor 3F0C1A', /Visitor 3F0C1A/],
  ['visitor-3f0c1a', /Visitor 3F0C1A/],
  ['V1s1t0r 3F0C1A', /Visitor 3F0C1A/],
  ['Ｖｉｓｉｔｏｒ ３Ｆ０Ｃ１Ａ', /Visitor 3F0C1A/], // full width
  ['Vіsіtor 3F0C1A', /Visitor 3F0C1A/], // Cyrillic і
  ['Eve\u200F', /text-direction/], // RIGHT-TO-LEFT MARK
];

test('a visitor name that passes for blank, for a default name or for the verified mark is refused on connect', async () => {
  const name = deskName('names');
  const inbox = await admin(desk.url, name);
  const A = await visitor(desk.url, name, { name: 'Alice Martin', headers: from(freshAddress()) });
  await say(A, 'hello');
  for (const [look, why] of LOOK_ALIKES) {
    await assert.rejects(connectVisitor(desk.url, name, { name: look, headers: from(freshAddress()) }),
      refused(400, 'bad_request', why), `new visitor named ${JSON.stringify(look)}`);
    await assert.rejects(connectVisitor(desk.url, name, { token: A.token, name: look }),
      refused(400, 'bad_request', why), `A renamed ${JSON.stringify(look)}`);
  }
  // A's own default name is refused too: nobody can take it for another visitor's.
  const B = await visitor(desk.url, name, { headers: from(freshAddress()) });
  await assert.rejects(connectVisitor(desk.url, name, { token: A.token, name: B.welcome.name }), refused(400, 'bad_request'));
  assert.equal(rowOf(await rows(desk.url, name), A.userId).name, 'Alice Martin', 'no refused name reached the row');
  // What is fine stays fine (names in other scripts, an emoji with a joiner, "Visitor" in a real name).
  for (const fine of ['Zoë', '李小龍', 'محمد', 'Ana 👩‍💻', 'Visitor Center', 'Alice Martin']) {
    const v = await connectVisitor(desk.url, name, { token: A.token, name: fine });
    assert.equal((await v.next((f) => f.type === 'welcome')).name, fine);
    await v.close();
  }
  await closeAll(inbox, A, B);
});

test("an agent's name that passes for blank, for a visitor or for the verified mark is refused (profile, invite, accept)", async () => {
  const name = deskName('agent-names');
  const owner = await admin(desk.url, name);
  const invited = await invite(owner, { name: 'Cleo' });
  assert.equal(invited.type, 'invited');
  for (const [look, why] of LOOK_ALIKES) {
    const p = await refusal(owner, { type: 'profile', name: look });
    assert.equal(p.code, 'bad_frame', JSON.stringify(p));
    assert.match(p.message, why);
    const i = await refusal(owner, { type: 'invite', name: look, role: 'agent' });
    assert.equal(i.code, 'bad_frame', JSON.stringify(i));
    const res = await acceptInvite(desk.url, name, invited.code, look);
    assert.equal(res.status, 400, `accept as ${JSON.stringify(look)}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'bad_request');
    assert.match(res.body.message, why);
  }
  // The invite was not used up by the refusals; the owner is still "Owner".
  assert.equal((await acceptInvite(desk.url, name, invited.code, 'Cleo')).status, 200);
  const again = await admin(desk.url, name);
  assert.equal(again.snapshot.me.name, 'Owner');
  await closeAll(owner, again);
});

test("the desk's own origin is its scheme, host and port: another scheme or port is a foreign page", async () => {
  const name = deskName('origin');
  const own = desk.url; // http://127.0.0.1:PORT
  const https = own.replace(/^http:/, 'https:');
  const port = Number(new URL(own).port);
  const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  assert.equal((await upgradeStatus(own, `/desks/${name}/admin`, { ...bearer, Origin: own })).status, 101, 'its own pages');
  for (const origin of [https, `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`]) {
    const res = await upgradeStatus(own, `/desks/${name}/admin`, { ...bearer, Origin: origin });
    assert.equal(res.status, 403, `admin socket from ${origin}: ${res.text}`);
    assert.equal(res.body.code, 'forbidden_origin');
    const check = await fetch(`${own}/desks/${name}/admin/check`, { method: 'POST', headers: { ...bearer, Origin: origin } });
    assert.equal(check.status, 403, `admin check from ${origin}`);
    const v = await upgradeStatus(own, `/desks/${name}/visitor`, { Origin: origin, ...from(freshAddress()) });
    assert.equal(v.status, 403, `visitor socket from ${origin} (no ALLOWED_ORIGINS: only the desk's own pages)`);
  }
});

test('malformed upgrades (version 8, empty or bad key, no Upgrade, POST or PUT with a body) are refused and create no visitor', async () => {
  await noVisitorFrom(desk.url, deskName('handshakes'), freshAddress(), MALFORMED);
});

// Known gap (SECURITY.md): workerd hands the Worker a HEAD or DELETE upgrade as a plain GET and
// refuses the 101 only after the desk answered, so those still create a visitor locally.
test('HEAD and DELETE upgrades create no visitor', { todo: 'workerd presents them to the Worker as GET (SECURITY.md, known gap)' }, async () => {
  await noVisitorFrom(desk.url, deskName('head'), freshAddress(), [[{}, { method: 'HEAD' }, 405], [{}, { method: 'DELETE' }, 405]]);
});
