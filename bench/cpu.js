// CPU per unit of work: the worker's workerd process CPU time (user + system, /proc/PID/stat) per
// 1,000 routed replies, per 1,000 visitor messages (at a fixed rate below saturation) and per
// 1,000 connects. run.js uses `cpuMs` and `fixedRateCpu` for the CPU table of `make bench`.
//
// CPU time consumed per message is far steadier than peak throughput on a shared machine (other
// processes slow the run, they do not add to this process's CPU time), so it is what before/after
// comparisons of one change use. As a command:
//
//   node bench/cpu.js [IMPL ...] [--rate N] [--seconds S] [--rounds R] [--visitors N] [--kinds K,...]
//
// IMPL is `ours`, `peer`, or `ours@DIR` (ours run from DIR: a copy of another build's build/, e.g.
// `cp -r build /tmp/before` before a change, or a checkout: a folder with wrangler.toml and build/,
// for a change of configuration); `ours-assets` and `peer+assets` (without ours' [assets] section,
// the peer with it: like for like; servers.js `startImpl`), and `floor` (bench/floor-js: the least
// a Durable Object can do per message with the same durability, the runtime's share of a message;
// `floor@DIR` a variant of it; docs/performance.md, "The floor"). Every IMPL runs at once (a server and a load
// generator each); each round runs one step per IMPL and kind, the order alternating; at the end,
// the median of each figure and, per IMPL, the median of its per-round ratios to the first IMPL
// (each step preceded by a short unmeasured one that wakes the object; defaults: 300/s, 3 s steps, 6 rounds, 1,000 visitors each). `--kinds` picks the steps of a
// round from `routed`, `inbound` (the default pair) and `users`: every visitor given a
// conversation row first, then per round `--users` (10) admin connects to their `users` frame,
// measured as CPU ms per `users` frame (`users`) and the frame's median latency (`usersMs`), and
// `connect`: per round `--visitors` more new visitors connected (and held), CPU per 1,000 (without
// it, `connect` is one sample per IMPL: the first 1,000, before the rounds). `--p99` adds each
// message step's latency p99 as the figures `routed.p99ms` / `inbound.p99ms` (milliseconds, not
// CPU, though they are listed with the CPU figures), so a change to latency is measured side by side.
// `idle`: per round, every IMPL left idle at once for `--idle-seconds` (120): CPU ms per second
// (the load generator's keep-alive pings every 20 s, answered by the runtime, and the desk's own
// alarm work: the stale-socket sweep).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startImpl } from './servers.js';
import { startClient } from './loadgen.js';
import { median, round } from './stats.js';

const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux

/** CPU time (ms) the process has used so far: user + system, all its threads. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/** CPU ms of `pid` per 1,000 units: `used` ms over `units`. */
export const per1000 = (used, units) => (units > 0 ? round((used / units) * 1000, 1) : null);

/**
 * One fixed-rate step of `kind` ('routed' | 'inbound') through a load generator's `call`, with
 * the server's CPU time around it (the drain included: work the server owes for the step).
 */
export async function fixedRateCpu(call, pid, { kind, rate, seconds }) {
  const before = cpuMs(pid);
  const r = await call('rampStep', { kind, rate, stepMs: seconds * 1000, drainMs: 3000, p99LimitMs: 1e9, warmUp: false });
  const used = cpuMs(pid) - before;
  return { rate, seconds, delivered: r.delivered, lost: r.lost, errors: r.errors, cpuMs: used, cpuMsPer1000: per1000(used, r.delivered),
    latencyMs: r.latencyMs };
}


/**
 * All IMPLs up at once, each with its visitors connected; then `rounds` rounds of one fixed-rate
 * step per IMPL and kind, the order alternating, so a change in the machine's load between steps
 * hits every IMPL alike. Per round, each IMPL's CPU per 1,000 and its ratio to the first IMPL's.
 */
async function interleaved(specs, { rate, seconds, visitors, rounds, kinds, usersTimes, p99, idleSeconds }) {
  const token = 'cpu-bench-token-0123456789abcdef0123456789';
  const live = [];
  try {
    for (const spec of specs) {
      const server = await startImpl(spec, { adminToken: token });
      const c = startClient(server.impl, server.directUrl, 'cpu', token);
      live.push({ spec, server, ...c });
    }
    const out = Object.fromEntries(specs.map((s) => [s, { connect: [], ...Object.fromEntries(kinds.map((k) => [k, []])) }]));
    if (kinds.includes('users')) for (const s of specs) out[s].usersMs = [];
    for (const l of live) {
      await l.call('connect', { n: 1, concurrency: 1 });
      const before = cpuMs(l.server.pid);
      const c = await l.call('connect', { n: visitors, concurrency: 50 });
      out[l.spec].connect.push(per1000(cpuMs(l.server.pid) - before, c.held));
      for (const kind of ['routed', 'inbound']) await l.call('rampStep', { kind, rate: 100, stepMs: 1000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
      if (kinds.includes('users')) await l.call('prime', { rate: 600 });
    }
    for (let k = 0; k < rounds; k++) {
      for (const kind of kinds) {
        if (kind === 'idle') {
          // Every IMPL idle at once (nothing to interfere with): keep-alive pings only, and
          // whatever the desk's alarm does meanwhile (the stale-socket sweep).
          const before = live.map((l) => cpuMs(l.server.pid));
          await new Promise((r) => setTimeout(r, idleSeconds * 1000));
          live.forEach((l, i) => out[l.spec].idle.push(round((cpuMs(l.server.pid) - before[i]) / idleSeconds, 2)));
          continue;
        }
        for (const l of k % 2 ? [...live].reverse() : live) {
          // Wake the object first (unmeasured), as run.js does: workerd evicts an object ~10 s
          // after its last event, and a step that found it evicted paid the wake (ours ~45 ms at
          // 1,000 sockets, the peer ~18: docs/performance.md, "Where the first IMPL's CPU went").
          // Without this the IMPL idle longest between steps (the first listed) read ~10% high.
          await l.call('rampStep', { kind: 'routed', rate: 50, stepMs: 500, drainMs: 1000, p99LimitMs: 1e9, warmUp: false });
          if (kind === 'connect') {
            const before = cpuMs(l.server.pid);
            const c = await l.call('connect', { n: visitors, concurrency: 50 });
            out[l.spec].connect.push(per1000(cpuMs(l.server.pid) - before, c.n - c.failed));
            continue;
          }
          if (kind === 'users') {
            const before = cpuMs(l.server.pid);
            const r = await l.call('users', { times: usersTimes });
            out[l.spec].users.push(round((cpuMs(l.server.pid) - before) / usersTimes, 2));
            out[l.spec].usersMs.push(r.usersMs.p50);
            continue;
          }
          const r = await fixedRateCpu(l.call, l.server.pid, { kind, rate, seconds });
          out[l.spec][kind].push(r.cpuMsPer1000);
          if (p99) (out[l.spec][`${kind}.p99ms`] ??= []).push(r.latencyMs.p99);
        }
      }
      const figures = Object.keys(out[specs[0]]).filter((f) => f !== 'connect');
      const at = (s, f) => (f === 'connect' ? out[s].connect[k + 1] : out[s][f][k]);
      if (kinds.includes('connect')) figures.push('connect');
      console.log(JSON.stringify({ round: k + 1, ...Object.fromEntries(specs.map((s) => [s, Object.fromEntries(figures.map((f) => [f, at(s, f)]))])) }));
    }
    // With connect rounds, the warm-up connect (the first 1,000 into an empty desk, wasm tier-up
    // included) is left out of the figure: every sample is then one round's.
    if (kinds.includes('connect')) for (const s of specs) out[s].connect.shift();
    return out;
  } finally {
    for (const l of live) { l.kill(); await l.server.stop(); }
  }
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
  const kinds = args.includes('--kinds') ? args[args.indexOf('--kinds') + 1].split(',') : ['routed', 'inbound'];
  const settings = { rate: opt('--rate', 300), seconds: opt('--seconds', 3), visitors: opt('--visitors', 1000), rounds: opt('--rounds', 6), kinds, usersTimes: opt('--users', 10),
    p99: args.includes('--p99'), idleSeconds: opt('--idle-seconds', 120) };
  const specs = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const impls = specs.length ? specs : ['ours', 'peer'];
  const out = await interleaved(impls, settings);
  const summary = {};
  for (const spec of impls) {
    const figures = Object.keys(out[spec]);
    summary[spec] = {
      medianCpuMsPer1000: Object.fromEntries(figures.map((f) => [f, median(out[spec][f])])),
      [`medianRatioTo ${impls[0]}`]: Object.fromEntries(figures.map((f) =>
        [f, round(median(out[spec][f].map((x, k) => x / out[impls[0]][f][k])), 3)])),
    };
  }
  console.log(JSON.stringify({ ...settings, summary }, null, 1));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
