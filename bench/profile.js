// CPU profile of one implementation under a bench load, through workerd's V8 inspector (wrangler dev).
//
// `node bench/profile.js [IMPL] [routed|inbound|connect|idle|users|wake] [rate] [visitors]` (IMPL:
// `ours`, `peer`, `floor`, `ours@DIR`, as servers.js `startImpl` takes them): starts the
// implementation, holds `visitors` (1000) sockets, starts the V8 sampling profiler, runs the load for
// 5 s ('idle': 35 s of nothing but keep-alives, to catch the 30 s alarm sweep; 'users': every
// visitor given a conversation row first, then five admin connects to their `users` frame; 'wake':
// routed replies after 15 s idle, the object evicted and woken by the first), and prints the
// functions with the most self time (wasm functions carry their Rust names from the name section)
// and the share of idle / GC / wasm / JS. Also prints the isolate's JS heap (after a forced GC)
// before and after the visitors connect, per socket. Writes the raw profile to bench/results/<impl>-<load>.cpuprofile
// (open it in Chrome DevTools). A diagnostic for the lead, not part of `make bench`.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startImpl } from './servers.js';

const HERE = new URL('.', import.meta.url).pathname;
const [impl = 'ours', load = 'routed', rateArg = '1500', visitorsArg = '1000'] = process.argv.slice(2);
const rate = Number(rateArg);
const visitors = Number(visitorsArg);
const token = 'profile-token-0123456789abcdef0123456789';
// From a snapshot of build/ (noWatch): a rebuild by someone else mid-profile must not reload it.
const server = await startImpl(impl, { adminToken: token, noWatch: true });
const child = fork(join(HERE, 'client.js'), [server.impl, server.directUrl, 'profile', token]);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, async () => { child.kill(); await server.stop(); process.exit(130); });
const guard = setTimeout(async () => { console.error('profile: timed out'); child.kill(); await server.stop(); process.exit(2); }, 180_000 + visitors * 15); // connecting 20k takes ~100 s here
guard.unref();
let nextId = 0;
const call = (cmd, args) => new Promise((resolve, reject) => {
  const id = ++nextId;
  const on = (m) => { if (m.id === id) { child.off('message', on); m.error ? reject(new Error(m.error)) : resolve(m.result); } };
  child.on('message', on);
  child.send({ id, cmd, args });
});

try {
  await call('connect', { n: 1, concurrency: 1 }); // wakes the desk: the isolate exists from here
  const targets = await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json`)).json();
  const insp = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r, j) => { insp.once('open', r); insp.once('error', j); });
  let id = 0;
  const waiting = new Map();
  insp.on('message', (d) => { const m = JSON.parse(d); waiting.get(m.id)?.(m); waiting.delete(m.id); });
  const cdp = (method, params = {}) => new Promise((r) => { const i = ++id; waiting.set(i, r); insp.send(JSON.stringify({ id: i, method, params })); });
  // The peer's isolate (wrangler's bundle with its source map) never answers
  // HeapProfiler.collectGarbage through wrangler's inspector proxy: the heap is then left out.
  const within = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r(null), ms))]);
  const heap = async () => {
    if (!(await within(cdp('HeapProfiler.collectGarbage'), 3000))) return null;
    return (await within(cdp('Runtime.getHeapUsage'), 3000))?.result ?? null;
  };
  const before = await heap();
  if (load !== 'connect') await call('connect', { n: visitors, concurrency: 50 });
  const after = await heap();
  const kib = (b) => (b / 1024).toFixed(1);
  if (before && after) {
    console.log(`JS heap used: ${kib(before.usedSize)} KiB with 1 visitor, ${kib(after.usedSize)} KiB with ${visitors + 1}: ` +
      `${((after.usedSize - before.usedSize) / 1024 / visitors).toFixed(2)} KiB per socket (after GC)`);
  } else console.log('JS heap used: not answered by the inspector');
  // Steady state: every conversation has had a message of this kind first (first replies also
  // assign, and a conversation's first look per wake reads SQLite), unless PROFILE_COLD is set.
  if (!process.env.PROFILE_COLD && (load === 'routed' || load === 'inbound' || load === 'wake')) {
    await call('rampStep', { kind: load === 'wake' ? 'routed' : load, rate: 400, stepMs: 5000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
  }
  if (load === 'users') await call('prime', { rate: 600 });
  // 'wake': routed replies after 15 s of nothing, so workerd has evicted the object (~10 s idle)
  // and the step's first frame wakes a new instance with empty caches.
  if (load === 'wake') await new Promise((r) => setTimeout(r, 15_000));
  await cdp('Profiler.enable');
  await cdp('Profiler.setSamplingInterval', { interval: 200 });
  await cdp('Profiler.start');
  const t0 = Date.now();
  const starts = server.logs.starts.length;
  let result;
  if (load === 'connect') result = await call('connect', { n: visitors, concurrency: 50 });
  else if (load === 'users') result = await call('users', { times: 5 });
  else if (load === 'idle') { await new Promise((r) => setTimeout(r, 35_000)); result = { idle: '35 s' }; }
  else result = await call('rampStep', { kind: load === 'wake' ? 'routed' : load, rate, stepMs: 5000, drainMs: 2000, p99LimitMs: 1e9, warmUp: false });
  const { result: { profile } } = await cdp('Profiler.stop');
  insp.close();
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', `${impl.replace(/@.*/, '')}-${load}.cpuprofile`), JSON.stringify(profile));

  // Self time per function: samples x interval. Node ids -> function names.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Time per sample: the gap to the next one (workerd takes no samples while the isolate is idle,
  // so a gap that follows a sample of real work is cut at 1 ms).
  const counts = new Map();
  profile.samples.forEach((s, i) => {
    const gap = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    counts.set(s, (counts.get(s) ?? 0) + Math.min(gap, 1));
  });
  const self = new Map();
  let total = 0;
  for (const [nodeId, c] of counts) {
    const f = byId.get(nodeId).callFrame;
    const key = `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').pop()}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + c);
    total += c;
  }
  // The longest stretch of consecutive busy samples: how long the isolate ran without a break,
  // i.e. the longest a frame arriving then would wait (for 'idle': the sweep's longest slice).
  let stretch = 0, longest = 0, longestAt = 0;
  profile.samples.forEach((s, i) => {
    const gap = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (byId.get(s).callFrame.functionName === '(idle)') stretch = 0;
    else {
      if ((stretch += Math.min(gap, 1)) > longest) [longest, longestAt] = [stretch, i];
      if (gap > 1) stretch = 0; // no sample for over 1 ms at a 0.2 ms interval: the isolate went idle
    }
  });
  const idle = self.get('(idle)') ?? 0, gc = self.get('(garbage collector)') ?? 0, program = self.get('(program)') ?? 0;
  const busy = total - idle;
  const wasm = [...self].filter(([k]) => /wasm|::|^\$?func/.test(k) && !k.includes('.js')).reduce((s, [, c]) => s + c, 0);
  const ms = (c) => c.toFixed(0); // counts are milliseconds
  console.log(`${impl} ${load} @${rate}/s, ${visitors} visitors, ${server.logs.starts.length - starts} wake(s) while profiled: ${JSON.stringify(result)}`);
  console.log(`${profile.samples.length} samples over ${Date.now() - t0} ms: isolate busy ${busy.toFixed(0)} ms, GC ${((gc / total) * 100).toFixed(1)}%, ` +
    `(program) ${((program / total) * 100).toFixed(1)}%, wasm-named ${((wasm / total) * 100).toFixed(1)}%`);
  console.log(`longest busy stretch: ${longest.toFixed(1)} ms (ending at sample ${longestAt})`);
  console.log('top self time (share of busy samples):');
  for (const [k, c] of [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`  ${((c / busy) * 100).toFixed(1).padStart(5)}%  ${ms(c).padStart(5)} ms  ${k.slice(0, 150)}`);
  }
} finally {
  await call('close').catch(() => {});
  child.kill();
  await server.stop();
}
process.exit(0);
