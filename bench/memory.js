// Memory per held socket, and where it sits: the worker's workerd RSS, its anonymous memory by
// mapping (/proc/PID/smaps) and the isolate's JS heap (V8 inspector), before and
// after N visitors connect, and again once the desk object has hibernated (workerd evicts an idle
// object after ~10 s: what stays is the runtime's own record of each socket).
//
// `node bench/memory.js IMPL[@BUILD] ... [--visitors N]`: one implementation at a time (each is
// stopped before the next starts), e.g. `node bench/memory.js ours peer`. BUILD: a build folder or
// a checkout (servers.js). `ours-assets` runs ours without its [assets] section, `peer+assets` the
// peer with ours' (the static-assets layer in front of the Worker holds memory per socket of its
// own; docs/performance.md). A diagnostic for issue 12, not part of `make bench`.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startImpl, rssBytes } from './servers.js';
import { startClient } from './loadgen.js';

const args = process.argv.slice(2);
const visitors = args.includes('--visitors') ? Number(args[args.indexOf('--visitors') + 1]) : 1000;
const specs = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kib = (b) => Math.round(b / 1024);

/** Anonymous memory (kB) per mapping, keyed by its start address and virtual size. */
function anonymous(pid) {
  const out = new Map();
  let key = null;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = line.match(/^([0-9a-f]+)-([0-9a-f]+) /);
    // Keyed by start and virtual size in MiB: a wasm memory is a reservation of many GiB.
    if (head) key = `${head[1]}/${Math.round((parseInt(head[2], 16) - parseInt(head[1], 16)) / 2 ** 20)}MiB`;
    const m = line.match(/^Anonymous:\s+(\d+) kB/);
    if (m && key) out.set(key, (out.get(key) ?? 0) + Number(m[1]));
  }
  return out;
}

async function inspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let id = 0;
  const waiting = new Map();
  ws.on('message', (d) => { const m = JSON.parse(d); waiting.get(m.id)?.(m); waiting.delete(m.id); });
  // The inspector sometimes never answers (a busy machine, or a target of another isolate):
  // give up after 15 s rather than hang.
  const cdp = (method, params = {}) => new Promise((r, j) => {
    const i = ++id;
    const t = setTimeout(() => { waiting.delete(i); j(new Error(`${method}: no answer`)); }, 15_000);
    waiting.set(i, (m) => { clearTimeout(t); r(m); });
    ws.send(JSON.stringify({ id: i, method, params }));
  });
  return { cdp, close: () => ws.close() };
}

/** The JS heap after a forced GC (wasm memory is outside it: it shows in smaps). */
async function isolate(port) {
  try {
    const { cdp, close } = await inspector(port);
    try {
      await cdp('HeapProfiler.collectGarbage');
      const heap = (await cdp('Runtime.getHeapUsage')).result;
      return { heapKiB: kib(heap.usedSize) };
    } finally {
      close();
    }
  } catch (e) {
    return { error: String(e) };
  }
}

async function measure(spec) {
  const token = 'memory-token-0123456789abcdef0123456789';
  const server = await startImpl(spec, { adminToken: token, noWatch: !spec.startsWith('peer') });
  const { call, kill } = startClient(server.impl, server.directUrl, 'memory', token);
  try {
    await call('connect', { n: 1, concurrency: 1 });
    await sleep(500);
    const before = { rss: rssBytes(server.pid), anon: anonymous(server.pid), isolate: await isolate(server.inspectorPort) };
    const r = await call('connect', { n: visitors, concurrency: 50 });
    await sleep(1500);
    const after = { rss: rssBytes(server.pid), anon: anonymous(server.pid), isolate: await isolate(server.inspectorPort) };
    // Idle: the object hibernates (its isolate state goes; the sockets stay with the runtime).
    await sleep(20_000);
    const hibernated = { rss: rssBytes(server.pid), anon: anonymous(server.pid) };
    const grown = (from, to) => [...to.anon].map(([k, v]) => [k, v - (from.anon.get(k) ?? 0)]).filter(([, d]) => Math.abs(d) >= 1024).sort((a, b) => b[1] - a[1]);
    const per = (from, to) => Math.round(((to.rss - from.rss) / 1024 / r.held) * 100) / 100;
    return {
      spec, held: r.held,
      rssKiBPerSocket: per(before, after),
      rssKiBPerSocketHibernated: per(before, hibernated),
      isolateBefore: before.isolate, isolateAfter: after.isolate,
      anonGrownKiB: grown(before, after).slice(0, 5),
      anonGrownHibernatedKiB: grown(before, hibernated).slice(0, 5),
    };
  } finally {
    kill();
    await server.stop();
  }
}

for (const spec of specs.length ? specs : ['ours', 'peer']) console.log(JSON.stringify(await measure(spec)));
process.exit(0);
