// CPU per unit of work: the worker's workerd process CPU time (user + system, /proc/PID/stat) per
// 1,000 routed replies and per 1,000 visitor messages at a fixed rate below saturation.
//
// `node bench/cpu.js [ours|peer ...] [--rate N] [--seconds S]`. CPU time consumed per message is far
// steadier than peak throughput on a shared machine (other processes slow the run, they do not
// add to this process's CPU time), so it is what before/after comparisons of one change use.
// Prints one JSON line per implementation. A diagnostic beside `make bench`, not part of it.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './servers.js';

const HERE = new URL('.', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const rate = opt('--rate', 300);
const seconds = opt('--seconds', 6);
const impls = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux

/** CPU time (ms) the process has used so far. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

async function measure(impl) {
  const token = 'cpu-bench-token-0123456789abcdef0123456789';
  const server = await startServer({ name: impl, config: impl === 'peer' ? join(HERE, 'peer-ts', 'wrangler.toml') : null, adminToken: token });
  const child = fork(join(HERE, 'client.js'), [impl, server.directUrl, 'cpu', token]);
  let next = 0;
  const call = (cmd, a) => new Promise((resolve, reject) => {
    const id = ++next;
    const on = (m) => { if (m.id === id) { child.off('message', on); m.error ? reject(new Error(m.error)) : resolve(m.result); } };
    child.on('message', on);
    child.send({ id, cmd, args: a });
  });
  try {
    await call('connect', { n: 1000, concurrency: 50 });
    const out = { impl, rate, seconds };
    for (const kind of ['routed', 'inbound']) {
      await call('rampStep', { kind, rate: 50, stepMs: 1000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
      const perf = process.env.PERF_OUT && spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(server.pid), '-o', `${process.env.PERF_OUT}-${kind}`], { stdio: 'ignore' });
      const before = cpuMs(server.pid);
      const r = await call('rampStep', { kind, rate, stepMs: seconds * 1000, drainMs: 3000, p99LimitMs: 1e9, warmUp: false });
      const used = cpuMs(server.pid) - before;
      if (perf) { perf.kill('SIGINT'); await new Promise((r) => perf.once('exit', r)); }
      out[kind] = { delivered: r.delivered, lost: r.lost, cpuMsPer1000: Math.round((used / Math.max(1, r.delivered)) * 1000) };
    }
    console.log(JSON.stringify(out));
  } finally {
    if (process.env.CPU_LOGS) console.error(server.logs.text.split('\n').filter((l) => /DBG|started/.test(l)).join('\n'));
    child.kill();
    await server.stop();
  }
}

for (const impl of impls.length ? impls : ['ours', 'peer']) await measure(impl);
