// An upgrade checked on real data: a desk written by an older build, then opened by this one.
//
// `node bench/upgrade.js OLD_BUILD [NEW_BUILD]` (folders holding a build/'s files, e.g. `cp -r
// build /tmp/before` before a schema change; NEW_BUILD defaults to this checkout's build/): the
// old build serves a visitor who writes three messages and an admin who answers twice; the new
// build then opens the same state folder, so its migrations run on those rows at the desk's first
// open. Prints what the visitor gets back (history, a retried client id's ack, a new message's
// ack), the admin's row and a search, and any error the new build logged. A diagnostic for a
// schema change (schema v19 was checked so: docs/performance.md, "The floor"), not part of a suite.
import WebSocket from 'ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImpl } from './servers.js';

const [oldBuild, newBuild] = process.argv.slice(2);
if (!oldBuild) {
  console.error('usage: node bench/upgrade.js OLD_BUILD [NEW_BUILD]');
  process.exit(2);
}
const token = 'upgrade-check-token-0123456789abcdef0123';
const state = mkdtempSync(join(tmpdir(), 'desk-upgrade-'));
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const open = (base, path, headers) => new Promise((resolve, reject) => {
  const ws = new WebSocket(base + path, { headers });
  const frames = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  ws.on('error', reject);
  ws.on('open', () => setTimeout(() => resolve({ ws, frames }), 400));
});

try {
  const old = await startImpl(`ours@${oldBuild}`, { adminToken: token, persistTo: state });
  let base = old.directUrl.replace('http', 'ws');
  const v = await open(base, '/desks/upgrade/visitor');
  const { userId, token: visitorToken } = v.frames[0];
  const a = await open(base, '/desks/upgrade/admin', { Authorization: `Bearer ${token}` });
  for (let i = 1; i <= 3; i += 1) { v.ws.send(JSON.stringify({ type: 'message', message: `hello ${i}`, clientMsgId: `u-${i}` })); await wait(150); }
  for (let i = 1; i <= 2; i += 1) { a.ws.send(JSON.stringify({ type: 'message', message: `answer ${i}`, targetUserId: userId, clientMsgId: `r-${i}` })); await wait(150); }
  v.ws.close(); a.ws.close();
  await wait(300);
  await old.stop();

  const now = await startImpl(newBuild ? `ours@${newBuild}` : 'ours', { adminToken: token, persistTo: state, noWatch: true });
  base = now.directUrl.replace('http', 'ws');
  const back = await open(base, `/desks/upgrade/visitor?token=${visitorToken}`);
  const welcome = back.frames.find((f) => f.type === 'welcome');
  console.log('history:', welcome?.messages?.map((m) => `${m.seq} ${m.sender}: ${m.message}`).join(' | '));
  back.ws.send(JSON.stringify({ type: 'message', message: 'hello 3', clientMsgId: 'u-3' })); // a retry: acked as seq 3
  back.ws.send(JSON.stringify({ type: 'message', message: 'after the upgrade', clientMsgId: 'u-4' }));
  await wait(500);
  console.log('acks:', back.frames.filter((f) => f.type === 'ack').map((f) => `${f.clientMsgId} -> seq ${f.seq}`).join(', '));
  const admin = await open(base, '/desks/upgrade/admin', { Authorization: `Bearer ${token}` });
  console.log('row:', JSON.stringify(admin.frames.find((f) => f.type === 'users')?.users?.[0]));
  admin.ws.send(JSON.stringify({ type: 'search', query: 'hello' }));
  await wait(500);
  console.log('search:', JSON.stringify(admin.frames.find((f) => f.type === 'search')));
  // NOSENTRY: wrangler dev's own RPC noise, logged by every server here (the floor and the peer too).
  const errors = now.logs.text.split('\n').filter((l) => /error|exception/i.test(l) && !l.includes('NOSENTRY'));
  console.log(errors.length ? `new build logged:\n${errors.slice(0, 10).join('\n')}` : 'new build logged no error');
  back.ws.close(); admin.ws.close();
  await now.stop();
} finally {
  rmSync(state, { recursive: true, force: true });
}
process.exit(0);
