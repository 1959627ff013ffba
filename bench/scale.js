// The full profile's scale scenario (issue 12): as many visitors as one workerd can hold on one desk.
//
// For one implementation at a time (memory: ~20k sockets of ours is ~4.5 GB), `scale()` starts
// its server, reads the worker workerd's open-files limit and how many fds it already uses, and
// holds N = min(32,768 - others, limit - fds in use - headroom - others) visitor sockets from as
// many load generator processes as their own fd limits need, spread over several 127.0.0.x source
// addresses (one address has ~28k ephemeral ports towards one server port). At N it measures
// (latencies timed by a separate small prober process: its own visitor and admin socket):
// RSS per held socket, CPU per connect, idle CPU per second (keep-alives only, the alarm's sweep
// included), `users` (admin connect to its `users` frame) and `list` (request to answer frame)
// with every visitor online and a conversation row each, the sweep's stall as a user sees it
// (admin->visitor replies at a steady rate across at least one whole sweep: max and p99),
// and admin->visitor latency at 500/s to random held visitors (timed by their load generator). Fields are documented in docs/performance.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, rssBytes, openFds } from './servers.js';
import { cpuMs, per1000 } from './cpu.js';
import { round } from './stats.js';
import { startClient } from './loadgen.js';

const HERE = new URL('.', import.meta.url).pathname;
/** The platform's limit of hibernatable sockets per object. */
const PLATFORM_MAX = 32_768;
/** fds left free in the workerd beyond those it holds at start (SQLite files, log pipes, upgrades in flight). */
const HEADROOM = 200;
/** Visitor sockets per source address: well under the ~28k ephemeral ports of one address. */
const PER_ADDRESS = 8000;
/** A steady probe across the sweep: with the default liveness a sweep follows the one before it
 * by 30-75 s (session/liveness.rs: when the first socket could go stale; ~55 s with the load
 * generators' 20 s pings), so 80 s holds a whole one. */
const STALL_PROBE = { rate: 100, ms: 80_000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The open-files limits of a process: { soft, hard } (Infinity for unlimited). */
export function fdLimits(pid = 'self') {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/).map((x) => (x === 'unlimited' ? Infinity : Number(x)));
  return { soft, hard };
}

/**
 * Runs the scale scenario for `impl` ('ours' | 'peer') on a server of its own, stopped at the end.
 * `servers` (an object) holds the live server while it runs, for the caller's watchdog.
 */
export async function scale({ impl, adminToken, desk, log, servers = {}, noWatch = false, build = null, visitors = null, asked = null }) {
  const config = impl === 'peer' ? join(HERE, 'peer-ts', 'wrangler.toml') : null;
  const server = await startServer({ name: `${impl}-scale`, config, adminToken, noWatch, build });
  servers[`${impl}-scale`] = server;
  const clients = [];
  try {
    const limits = fdLimits(server.pid);
    const fdsAtStart = openFds(server.pid);
    const own = fdLimits();
    const perClient = Math.max(1000, Math.min(own.soft, own.hard) - HEADROOM);
    // Besides N visitors: one admin socket per load generator (priming rows), the prober's
    // visitor and admin, and the admin socket the users measurement opens and closes.
    const others = (k) => k + 3;
    const estimate = (k) => Math.min(PLATFORM_MAX - others(k), Math.min(limits.soft, limits.hard) - fdsAtStart - HEADROOM - others(k));
    let k = Math.max(1, Math.ceil(estimate(1) / perClient));
    const n = visitors ?? estimate(k);
    k = Math.max(1, Math.ceil(n / perClient));
    const limitedBy = visitors ? asked ?? 'asked' : n === PLATFORM_MAX - others(k) ? 'platform (32,768 per object)' : `workerd open-files limit (${limits.soft})`;
    log(`scale ${impl}: workerd fd limit soft ${limits.soft} hard ${limits.hard}, ${fdsAtStart} in use; ` +
      `holding ${n} visitors from ${k} load generator(s) (${limitedBy})`);
    const shares = Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
    let addr = 2;
    const sources = shares.map((share) => Array.from({ length: Math.ceil(share / PER_ADDRESS) }, () => `127.0.0.${addr++}`));
    for (let i = 0; i < k; i++) clients.push(startClient(impl, server.directUrl, desk, adminToken, sources[i]));
    const [first] = clients;

    await first.call('connect', { n: 1, concurrency: 1 }); // wakes the desk object: not part of the figures
    shares[0] -= 1;
    await sleep(1000);
    const rssBefore = rssBytes(server.pid), cpuBefore = cpuMs(server.pid);
    const t0 = Date.now();
    const connects = await Promise.all(clients.map((c, i) => c.call('connect', { n: shares[i], concurrency: 50 })));
    const connectCpu = cpuMs(server.pid) - cpuBefore, wallMs = Date.now() - t0;
    const held = connects.reduce((a, r) => a + r.held, 0); // the first one's count includes the wake-up socket
    const failed = connects.reduce((a, r) => a + r.failed, 0);
    await sleep(2000);
    const rssAfter = rssBytes(server.pid);
    log(`scale ${impl}: ${held} held (${failed} failed) in ${round(wallMs / 1000, 1)} s; RSS ${round(rssBefore / 2 ** 20)} -> ${round(rssAfter / 2 ** 20)} MiB`);

    // Idle: nothing but the load generators' keep-alive pings (one per socket per 20 s, answered
    // by the runtime) and whatever the desk's alarm does meanwhile.
    const idleMs = 76_000; // longer than the longest time between two sweeps, so a whole one is in it
    const idleBefore = cpuMs(server.pid);
    await sleep(idleMs);
    const idleCpuMsPerSecond = round((cpuMs(server.pid) - idleBefore) / (idleMs / 1000), 1);
    log(`scale ${impl}: idle ${idleCpuMsPerSecond} ms CPU per second with ${held} sockets`);

    // The figures below are timed by a prober of their own: a small process (one visitor, one
    // admin), so a garbage collection in a load generator holding ~20k sockets (~100 ms pauses
    // seen) is not counted as the desk's stall. The held visitors stay where they are.
    const prober = startClient(impl, server.directUrl, desk, adminToken, []);
    clients.push(prober);
    await prober.call('connect', { n: 1, concurrency: 1 });
    const primed = await Promise.all(clients.slice(0, k).map((c) => c.call('prime', { rate: Math.round(600 / k) })));
    log(`scale ${impl}: ${primed.reduce((a, p) => a + p.primed, 0)} conversation rows written`);
    const users = { ...(await prober.call('users', { times: 5 })), online: held + 1 };
    log(`scale ${impl}: users at ${held} online: p50 ${users.usersMs.p50} ms, max ${users.usersMs.max} ms`);
    const list = impl === 'ours' ? { ...(await prober.call('list', { times: 5 })), online: held + 1 } : null;
    if (list) log(`scale ${impl}: list at ${held} online: p50 ${list.listMs.p50} ms, max ${list.listMs.max} ms`);

    const stall = await prober.call('rampStep', { kind: 'routed', rate: STALL_PROBE.rate, stepMs: STALL_PROBE.ms, drainMs: 3000, p99LimitMs: 1e9, warmUp: false });
    log(`scale ${impl}: steady ${STALL_PROBE.rate}/s for ${STALL_PROBE.ms / 1000} s: p99 ${stall.latencyMs.p99} ms, max ${stall.latencyMs.max} ms`);
    const fixedBefore = cpuMs(server.pid);
    // 500/s to random held visitors, from the load generator that holds them (the prober has
    // one visitor: 500/s into one conversation is another scenario, and it broke down here even
    // at 300 held), so these latencies include that process's own pauses.
    const fixed500 = await first.call('rampStep', { kind: 'routed', rate: 500, stepMs: 10_000, drainMs: 3000, p99LimitMs: 1e9, warmUp: true });
    const fixedCpu = cpuMs(server.pid) - fixedBefore;
    log(`scale ${impl}: routed 500/s at ${held}: p99 ${fixed500.latencyMs.p99} ms, lost ${fixed500.lost}`);
    const opens = await Promise.all(clients.map((c) => c.call('open')));
    const open = opens.slice(0, k).reduce((a, r) => a + r.open, 0);
    // Sockets the server closed, by close code (4000: the sweep found them silent), and the
    // wrangler log's tail when some were lost: a run that lost its sockets says how.
    const closeCodes = {};
    for (const r of opens) for (const [code, c] of Object.entries(r.closeCodes ?? {})) closeCodes[code] = (closeCodes[code] ?? 0) + c;
    if (open < held) log(`scale ${impl}: only ${open} of ${held} sockets still open; closed by code: ${JSON.stringify(closeCodes)}`);
    return {
      visitors: n, held, failed, stillOpen: open, closeCodes, serverLogTail: open < held ? server.logs.text.slice(-4000) : undefined, limitedBy, loadGenerators: k, sourceAddresses: sources.flat(),
      workerdFdLimit: limits, workerdFdsAtStart: fdsAtStart, workerdFdsHeld: openFds(server.pid),
      connect: { wallMs, perSecond: round(((held - 1) / wallMs) * 1000, 1), cpuMs: connectCpu, cpuMsPer1000: per1000(connectCpu, held - 1) },
      rssBeforeMB: round(rssBefore / 2 ** 20), rssAfterMB: round(rssAfter / 2 ** 20),
      rssPerSocketKB: round((rssAfter - rssBefore) / 1024 / Math.max(1, held - 1), 2),
      idleCpuMsPerSecond, idleMs, users, list,
      sweepStall: { rate: STALL_PROBE.rate, seconds: STALL_PROBE.ms / 1000, p99: stall.latencyMs.p99, max: stall.latencyMs.max,
        latencyMs: stall.latencyMs, worst: stall.worst, lost: stall.lost, errors: stall.errors },
      routed500: { ...fixed500, cpuMsPer1000: per1000(fixedCpu, fixed500.delivered) },
    };
  } finally {
    await Promise.all(clients.map((c) => Promise.race([c.call('close').catch(() => {}), sleep(5000)])));
    for (const c of clients) c.kill();
    await server.stop();
    delete servers[`${impl}-scale`];
  }
}
