// What a wake costs: CPU per 1,000 messages in steps that follow a short pause (the object stays
// awake) and a 15 s pause (workerd evicts an object ~10 s after its last event, and the step's
// first frame wakes a new instance with empty caches), alternating, one implementation.
//
//   node bench/wake.js IMPL [routed|inbound] [--visitors N] [--rounds R]
//
// IMPL is `ours`, `peer`, `ours@DIR`, `peer+assets` or `ours-assets` (servers.js `startImpl`). BENCH_VARS passes Worker
// variables (servers.js), e.g. BENCH_VARS=SOCKET_STALE_MS:3600000 keeps the stale-socket sweep's
// alarm out of the run. Each line: the pause, CPU ms per 1,000, messages delivered, and how many
// times the object started during the step ("wakes": its 'desk object started' log lines). A
// diagnostic beside cpu.js, not part of `make bench`.
import { startImpl } from './servers.js';
import { startClient } from './loadgen.js';
import { fixedRateCpu } from './cpu.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const spec = args[0] ?? 'ours';
const kind = args[1] && !args[1].startsWith('--') ? args[1] : 'routed';
const visitors = flag('--visitors', 1000);
const rounds = flag('--rounds', 3);
const token = 'cpu-bench-token-0123456789abcdef0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await startImpl(spec, { adminToken: token, noWatch: !spec.startsWith('peer') });
const client = startClient(server.impl, server.directUrl, 'cpu', token);
try {
  await client.call('connect', { n: 1, concurrency: 1 });
  await client.call('connect', { n: visitors, concurrency: 50 });
  for (const k of ['routed', 'inbound']) await client.call('rampStep', { kind: k, rate: 100, stepMs: 1000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
  for (let r = 0; r < rounds; r++) {
    for (const pause of [1, 15]) {
      await sleep(pause * 1000);
      const starts = server.logs.starts.length;
      const step = await fixedRateCpu(client.call, server.pid, { kind, rate: 300, seconds: 3 });
      console.log(`${spec} ${kind} ${visitors} visitors, pause ${pause} s: per1000 ${step.cpuMsPer1000} delivered ${step.delivered} wakes ${server.logs.starts.length - starts}`);
    }
  }
} finally {
  client.kill();
  await server.stop();
}
