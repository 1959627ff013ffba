// Nothing lost, nothing doubled: the chaos run (short profile in `make test`, long in `make chaos`).
import assert from 'node:assert/strict';
import test from 'node:test';
import { PROFILES, runChaos } from './chaos.js';

const name = process.env.CHAOS_PROFILE ?? 'short';
const profile = PROFILES[name];

test(`chaos (${name}): SIGKILL restarts and dropped sockets lose and double nothing`, { timeout: (profile.seconds + 240) * 1000 }, async () => {
  const r = await runChaos(profile, (line) => console.log(line));
  console.log(
    `chaos figures: sent ${r.sent}, acked ${r.acked}, stored ${r.stored}, delivered ${r.delivered}, ` +
      `duplicates ${r.duplicates}, lost ${r.lost}, restarts ${r.restarts}, drops ${r.drops}, ` +
      `reconnects ${r.reconnects}, retried ${r.retried}, resets ${r.resets} (${r.caughtUp} messages read back), errors ${r.errors}, ` +
      `rate_limited waited out ${r.rateLimited} (read-back ${r.readBackLimited})`,
  );
  assert.deepEqual(r.problems, [], 'the desk read back consistent');
  assert.equal(r.restarts, profile.restarts, 'the runtime was killed and restarted');
  if (profile.adminAwaySeconds) assert.ok(r.resets > 0 && r.caughtUp > 0, `an admin away too long got a fresh snapshot and read the gap back (${r.resets} resets, ${r.caughtUp} read back)`);
  assert.ok(r.drops > 0 && r.reconnects > r.restarts, 'sockets were dropped and came back');
  assert.ok(r.acked > profile.seconds * 5, `enough traffic to mean something (${r.acked} acked)`);
  assert.ok(r.retried > 0, 'sends were retried, so idempotency was exercised');
  assert.equal(r.unacked, 0, 'every send was eventually acked');
  assert.equal(r.acked, r.sent, 'acks match sends one to one');
  assert.equal(r.lostAcked, 0, 'no acked message is missing from the history');
  assert.equal(r.storedTwice, 0, 'no clientMsgId is stored twice');
  assert.equal(r.mismatched, 0, 'every ack names the stored id and seq');
  assert.equal(r.missingDeliveries, 0, 'every client got every message owed to it');
  assert.equal(r.duplicateDeliveries, 0, 'no client got a message twice');
  assert.equal(r.outOfOrder, 0, 'deliveries arrived in seq order');
  assert.equal(r.errors, 0, 'no frame was refused (rate_limited answers are waited out and the frame resent)');
});
