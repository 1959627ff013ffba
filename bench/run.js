// The benchmark: the Rust desk ("ours") against the TypeScript peer, same workerd, one invocation.
//
// `node bench/run.js [--profile quick|full]` (make bench / make bench-full). Starts both with
// wrangler dev, forks one load generator per implementation (bench/client.js), runs every scenario
// on both, alternating which goes first, prints a side-by-side table with ratios ours/peer and
// writes bench/results/latest.json (fields documented in docs/performance.md). Loopback only; every
// loop is bounded; it stops its servers and children itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, startImpl, rssBytes, openFds } from './servers.js';
import { sizes as measureSizes } from './sizes.js';
import { median, ratio, round } from './stats.js';
import { printReport } from './report.js';
import { interleavedRamp } from './ramp.js';
import { cpuMs, fixedRateCpu, per1000 } from './cpu.js';
import { pageViews } from './pageviews.js';
import { scale } from './scale.js';
import { startClient } from './loadgen.js';

const HERE = new URL('.', import.meta.url).pathname;
const PROFILES = {
  quick: { visitors: 1000, concurrency: 50, rates: [200, 500, 1000, 1500, 2000, 2500, 3000], stepMs: 1500, drainMs: 2000,
    fixedRates: [200, 500], hibernationRounds: 1, idleMs: 13_000, cpuRate: 300, cpuSeconds: 6, inFlight: 64, closedMs: 5000,
    typingSeconds: 6, pageViews: 10_000 },
  full: { visitors: 10_000, concurrency: 100, rates: [200, 500, 1000, 1500, 2000, 3000, 4000, 6000], stepMs: 5000,
    drainMs: 3000, fixedRates: [200, 500], hibernationRounds: 3, idleMs: 15_000, cpuRate: 300, cpuSeconds: 10, inFlight: 64,
    closedMs: 10_000, typingSeconds: 10, pageViews: 10_000 },
};
/** The typing scenario: every visitor sends one `typing` frame per this period (the documented most). */
const TYPING_PERIOD_MS = 2000;
const P99_LIMIT_MS = 100; // a step "breaks down" above this p99 (or with any error/loss, or <90% of the rate)
const args = process.argv.slice(2);
const profileName = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : 'quick';
const profile = PROFILES[profileName];
if (!profile) throw new Error(`unknown profile ${profileName} (quick | full)`);
// --no-watch: run ours from a snapshot of build/ without wrangler's [build] watcher (servers.js),
// for shared machines where someone rebuilds or edits src/ during a run.
const NO_WATCH = args.includes('--no-watch');
// --build DIR: ours from DIR (a copy of an earlier build/), e.g. to run the code before a change.
const BUILD = args.includes('--build') ? args[args.indexOf('--build') + 1] : null;
// The full profile ends with the scale scenario (bench/scale.js): as many visitors as one workerd
// can hold, ours then the peer, one at a time. --scale-only runs just that; --no-scale skips it;
// --scale-visitors N holds N instead of what the fd limit allows (a quick trial of the scenario).
const SCALE_ONLY = args.includes('--scale-only');
const SCALE = SCALE_ONLY || (profileName === 'full' && !args.includes('--no-scale'));
const SCALE_VISITORS = args.includes('--scale-visitors') ? Number(args[args.indexOf('--scale-visitors') + 1]) : null;
// --scale-impls ours|peer: the scale scenario for one of them only (profiling a change).
const SCALE_IMPLS = args.includes('--scale-impls') ? args[args.indexOf('--scale-impls') + 1].split(',') : null;
// --no-like-for-like: skip scenario 1b (the peer with ours' static-assets section, connect only).
const LIKE_FOR_LIKE = !args.includes('--no-like-for-like');
const IMPLS = ['ours', 'peer'];
const liveServers = {}; // stopped on the way out, and by the watchdog
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Scenario 1: connect and hold; RSS of the worker's workerd per held socket, CPU per connect. */
async function scenarioConnect(impl, server, client) {
  await client.call('connect', { n: 1, concurrency: 1 }); // wakes the desk object: not part of the figure
  await sleep(500);
  const before = rssBytes(server.pid);
  const cpuBefore = cpuMs(server.pid);
  const r = await client.call('connect', { n: profile.visitors, concurrency: profile.concurrency });
  const cpuUsed = cpuMs(server.pid) - cpuBefore;
  await sleep(1500);
  const after = rssBytes(server.pid);
  return { ...r, rssBeforeMB: round(before / 2 ** 20), rssAfterMB: round(after / 2 ** 20),
    rssPerSocketKB: round((after - before) / 1024 / Math.max(1, r.held), 2), workerdFds: openFds(server.pid),
    cpuMs: cpuUsed, cpuMsPer1000: per1000(cpuUsed, r.held) };
}

/**
 * Scenario 1b, like for like: the peer given ours' `[assets]` section (servers.js), connected and
 * measured as in scenario 1, then stopped. Ours serves the widget and the inbox as static files;
 * under wrangler dev that puts two JavaScript workers (the entry proxy and the assets router) in
 * front of the Worker, in the same workerd, on every upgrade and for as long as the socket is
 * open: CPU per connect and memory per socket that the plain peer does not pay
 * (docs/performance.md, "Memory per held socket"). The headline stays ours against the plain peer.
 */
async function likeForLikeConnect(adminToken, desk) {
  const server = await startImpl('peer+assets', { adminToken });
  liveServers.peerAssets = server;
  const client = startClient('peer', server.directUrl, desk, adminToken);
  try {
    log('connect: peer+assets (like for like)');
    return await scenarioConnect('peer+assets', server, client);
  } finally {
    await Promise.race([client.call('close').catch(() => {}), sleep(3000)]);
    client.kill();
    await server.stop();
    delete liveServers.peerAssets;
  }
}

/**
 * Scenario 2a: CPU per 1,000 messages of `kind` at a fixed rate well below saturation, ours and
 * the peer one after the other (who goes first alternates), after a short warm-up step each.
 */
async function scenarioCpu(kind, servers, clients, k) {
  const out = {};
  for (const impl of k % 2 ? [...IMPLS].reverse() : IMPLS) {
    const { call } = clients[impl];
    await call('rampStep', { kind, rate: 50, stepMs: 1000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
    out[impl] = await fixedRateCpu(call, servers[impl].pid, { kind, rate: profile.cpuRate, seconds: profile.cpuSeconds });
    log(`cpu ${kind} ${impl} @${profile.cpuRate}/s: ${out[impl].cpuMsPer1000} ms per 1,000 (${out[impl].delivered} delivered)`);
  }
  return out;
}

/** Scenario 2c: closed loop, `inFlight` replies (or visitor messages) outstanding; CPU beside it. */
async function scenarioClosed(kind, servers, clients, k) {
  const out = {};
  for (const impl of k % 2 ? [...IMPLS].reverse() : IMPLS) {
    const before = cpuMs(servers[impl].pid);
    const r = await clients[impl].call('closedLoop', { kind, inFlight: profile.inFlight, ms: profile.closedMs, drainMs: profile.drainMs });
    const used = cpuMs(servers[impl].pid) - before;
    out[impl] = { ...r, cpuMs: used, cpuMsPer1000: per1000(used, r.delivered) };
    log(`closed ${kind} ${impl}, ${profile.inFlight} in flight: ${r.perSecond}/s p99 ${r.latencyMs.p99} ms, lost ${r.lost}`);
  }
  return out;
}

/**
 * Scenario 5 (ours only: the peer has no typing): every held visitor typing, one frame each per
 * 2 s (1,000 visitors: 500 frames a second), for `typingSeconds`; the worker's CPU per 1,000
 * typing frames received, and how many the admin socket got.
 */
async function scenarioTyping(server, client) {
  await client.call('typing', { prime: true });
  await client.call('typing', { ms: TYPING_PERIOD_MS, periodMs: TYPING_PERIOD_MS }); // warm-up, not reported
  const before = cpuMs(server.pid);
  const r = await client.call('typing', { ms: profile.typingSeconds * 1000, periodMs: TYPING_PERIOD_MS });
  const used = cpuMs(server.pid) - before;
  log(`typing ours: ${r.sent} frames from ${r.visitors} visitors in ${r.seconds}s, ${r.forwarded} forwarded, ${per1000(used, r.sent)} ms CPU per 1,000`);
  return { ...r, cpuMs: used, cpuMsPer1000: per1000(used, r.sent) };
}

/** Scenario 4: idle until the object is evicted, then one visitor message; repeat until a cold wake. */
async function scenarioHibernation(servers, clients, rounds) {
  const out = Object.fromEntries(IMPLS.map((i) => [i, []]));
  const idle = {};
  for (let round_ = 0; round_ < rounds; round_++) {
    log(`hibernation round ${round_ + 1}/${rounds}: idle ${profile.idleMs / 1000}s`);
    const before = Object.fromEntries(IMPLS.map((i) => [i, cpuMs(servers[i].pid)]));
    await sleep(profile.idleMs);
    // CPU while every socket sits idle (keep-alives only, answered by the runtime), per second.
    for (const i of IMPLS) (idle[i] ??= []).push((cpuMs(servers[i].pid) - before[i]) / (profile.idleMs / 1000));
    for (const impl of round_ % 2 ? [...IMPLS].reverse() : IMPLS) {
      const starts = servers[impl].logs.starts.length;
      const r = await clients[impl].call('probe');
      await sleep(300); // the constructor's log line travels through wrangler's stdout
      out[impl].push({ ...r, woke: servers[impl].logs.starts.length > starts });
    }
  }
  const summarise = (probes) => {
    const cold = probes.filter((p) => p.woke && p.ms !== null).map((p) => p.ms);
    return { probes, coldWakeMs: cold.length ? round(cold.sort((a, b) => a - b)[cold.length >> 1]) : null };
  };
  return Object.fromEntries(IMPLS.map((i) => [i, { ...summarise(out[i]), idleCpuMsPerSecond: round(median(idle[i]), 1) }]));
}

async function main() {
  const started = Date.now();
  const adminToken = randomBytes(16).toString('hex');
  const desk = `bench-${Date.now().toString(36)}`;
  const sizes = measureSizes();
  log(`profile ${profileName}: ${JSON.stringify(profile)}`);
  const servers = liveServers, clients = {};
  const results = { ours: {}, peer: {} };
  if (!SCALE_ONLY) try {
    const [ours, peer] = await Promise.all([
      startServer({ name: 'ours', config: null, adminToken, noWatch: NO_WATCH, build: BUILD }),
      startServer({ name: 'peer', config: join(HERE, 'peer-ts', 'wrangler.toml'), adminToken }),
    ]);
    Object.assign(servers, { ours, peer });
    for (const impl of IMPLS) {
      log(`${impl}: wrangler dev on ${servers[impl].url}, worker workerd pid ${servers[impl].pid} at ${servers[impl].directUrl}`);
      clients[impl] = startClient(impl, servers[impl].directUrl, desk, adminToken);
    }
    const order = (k) => (k % 2 ? [...IMPLS].reverse() : IMPLS); // alternate who goes first
    const check = async (impl) => {
      const { open } = await clients[impl].call('open');
      if (rssBytes(servers[impl].pid) === null || open < results[impl].connect.held) {
        throw new Error(`${impl}: ${open} of ${results[impl].connect.held} sockets still open: its worker was ` +
          'reloaded mid-run (wrangler saw build/ or src/ change?): rerun, or pass --no-watch');
      }
    };
    for (const impl of order(0)) {
      log(`connect: ${impl}`);
      results[impl].connect = await scenarioConnect(impl, servers[impl], clients[impl]);
      await sleep(1000);
    }
    if (LIKE_FOR_LIKE) results.peerAssets = { connect: await likeForLikeConnect(adminToken, desk) };
    const cpuSteps = { routed: await scenarioCpu('routed', servers, clients, 0), inbound: await scenarioCpu('inbound', servers, clients, 1) };
    for (const kind of ['routed', 'inbound']) {
      const ramp = await interleavedRamp({ kind, clients, impls: IMPLS, profile, p99LimitMs: P99_LIMIT_MS, log });
      for (const impl of IMPLS) { results[impl][kind] = ramp[impl]; await check(impl); }
    }
    const closed = { routed: await scenarioClosed('routed', servers, clients, 0), inbound: await scenarioClosed('inbound', servers, clients, 1) };
    for (const impl of IMPLS) {
      results[impl].closed = { routed: closed.routed[impl], inbound: closed.inbound[impl] };
      results[impl].cpuSteps = { routed: cpuSteps.routed[impl], inbound: cpuSteps.inbound[impl] };
      await check(impl);
    }
    for (const impl of order(1)) {
      log(`users: ${impl}`);
      results[impl].users = await clients[impl].call('users', { times: 5 });
    }
    log('typing: ours');
    results.ours.typing = await scenarioTyping(servers.ours, clients.ours);
    await check('ours');
    const hib = await scenarioHibernation(servers, clients, profile.hibernationRounds);
    for (const impl of IMPLS) {
      results[impl].hibernation = { ...hib[impl], idleMs: profile.idleMs, heldSockets: (await clients[impl].call('open')).open };
      results[impl].rssEndMB = round(rssBytes(servers[impl].pid) / 2 ** 20);
      // The headline: CPU ms of the worker's workerd per 1,000 units of work (idle: per second).
      const R = results[impl];
      R.cpu = { routed: R.cpuSteps.routed.cpuMsPer1000, inbound: R.cpuSteps.inbound.cpuMsPer1000,
        connect: R.connect.cpuMsPer1000, idle: R.hibernation.idleCpuMsPerSecond,
        closedRouted: R.closed.routed.cpuMsPer1000, closedInbound: R.closed.inbound.cpuMsPer1000,
        typing: R.typing?.cpuMsPer1000 ?? null };
    }
    // Scenario 6 (ours only, issue 14): page views of a host site, 3% of them chatting (bench/pageviews.js).
    if (profile.pageViews && !args.includes('--no-pageviews')) {
      log(`page views: ours, ${profile.pageViews} views, 3% chat`);
      results.ours.pageViews = await pageViews({ baseUrl: servers.ours.url, persistDir: servers.ours.persistDir, views: profile.pageViews, log });
      log(`page views: ${JSON.stringify(results.ours.pageViews)}`);
    }
  } finally {
    for (const impl of IMPLS) {
      await Promise.race([clients[impl]?.call('close').catch(() => {}), sleep(3000)]);
      clients[impl]?.kill();
    }
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
  // The scale scenario, one implementation at a time (its servers are the only ones running).
  if (SCALE) {
    for (const impl of SCALE_IMPLS ?? IMPLS) {
      log(`scale: ${impl}`);
      // The peer holds as many as ours did (the same N, so per-socket figures compare).
      const sameN = impl === 'peer' ? results.ours.scale?.visitors : null;
      results[impl].scale = await scale({ impl, adminToken, desk: `${desk}-scale`, log, servers, noWatch: NO_WATCH, build: BUILD,
        visitors: SCALE_VISITORS ?? sameN ?? null, asked: SCALE_VISITORS ? 'asked (--scale-visitors)' : sameN ? 'as many as ours held' : null });
    }
  }

  const f = (impl, path) => path.split('.').reduce((o, k) => (o == null ? null : o[k]), results[impl]);
  const ratioOf = (path) => ratio(f('ours', path), f('peer', path));
  const fixedPaths = (kind) => profile.fixedRates.flatMap((r) => ['p50', 'p95', 'p99'].map((p) => `${kind}.fixed.${r}.${p}`));
  const ratios = Object.fromEntries([
    'cpu.routed', 'cpu.inbound', 'cpu.connect', 'cpu.idle', 'cpu.closedRouted', 'cpu.closedInbound',
    'closed.routed.perSecond', 'closed.inbound.perSecond', 'closed.routed.latencyMs.p99', 'closed.inbound.latencyMs.p99',
    'connect.connectMs.p50', 'connect.connectMs.p99', 'connect.perSecond', 'connect.rssPerSocketKB',
    'routed.sustainedPerSecond', 'routed.peakPerSecond', ...fixedPaths('routed'),
    'inbound.sustainedPerSecond', 'inbound.peakPerSecond', ...fixedPaths('inbound'),
    'users.usersMs.p50', 'hibernation.coldWakeMs',
    'scale.held', 'scale.rssPerSocketKB', 'scale.idleCpuMsPerSecond', 'scale.connect.cpuMsPer1000', 'scale.users.usersMs.p50',
    'scale.sweepStall.p99', 'scale.sweepStall.max', 'scale.routed500.latencyMs.p99', 'scale.routed500.cpuMsPer1000',
  ].map((p) => [p, ratioOf(p)]));
  // Scenario 1b: ours against the peer with the same static-assets layer in front of it.
  for (const p of ['connect.cpuMsPer1000', 'connect.perSecond', 'connect.rssPerSocketKB']) {
    ratios[`likeForLike.${p}`] = ratio(f('ours', p), f('peerAssets', p));
  }

  const report = {
    profile: profileName, parameters: { ...profile, p99LimitMs: P99_LIMIT_MS, desk: 'one desk per implementation' },
    startedAt: new Date(started).toISOString(), durationS: round((Date.now() - started) / 1000, 1),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGB: round(totalmem() / 2 ** 30, 1), node: process.version },
    results, ratios, sizes,
  };
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  printReport(report, { scaleOnly: SCALE_ONLY });
  log(`wrote bench/results/latest.json in ${report.durationS}s`);
}

const watchdog = setTimeout(async () => {
  console.error('bench: watchdog expired, stopping');
  await Promise.race([Promise.all(Object.values(liveServers).map((s) => s.stop())), sleep(8000)]);
  process.exit(2);
}, (SCALE_ONLY ? 0 : (profileName === 'full' ? 30 : 5) * 60_000 + (args.includes('--no-pageviews') ? 0 : 20 * 60_000)) +
  (SCALE ? 20 * 60_000 : 0));
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await Promise.race([Promise.all(Object.values(liveServers).map((s) => s.stop())), sleep(8000)]);
    process.exit(130);
  });
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
