// Prints a bench report (the object written to bench/results/latest.json) as a readable table.

const fmt = (x) => (x === null || x === undefined ? '-' : typeof x === 'number' ? String(x) : String(x));
const get = (o, path) => path.split('.').reduce((v, k) => (v == null ? null : v[k]), o);

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => fmt(r[c]).length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === 0 ? fmt(cell).padEnd(widths[c]) : fmt(cell).padStart(widths[c]))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

function sizeCell(s) {
  return s === 'missing' ? 'missing' : `${(s.raw / 1024).toFixed(1)} KiB raw, ${(s.gzip / 1024).toFixed(1)} KiB gz`;
}

/** The scale scenario's table (bench/scale.js), when the run had one. */
function printScale(rep) {
  const { results: R, ratios } = rep;
  if (!R.ours.scale && !R.peer.scale) return;
  const line = (label, path, better) => [label, get(R.ours, `scale.${path}`), get(R.peer, `scale.${path}`), ratios[`scale.${path}`] ?? '-', better];
  const s = R.ours.scale ?? R.peer.scale;
  console.log(`\nScale: as many visitors as one workerd holds (${s.limitedBy}), one implementation at a time, ` +
    `${s.loadGenerators} load generator(s) over ${s.sourceAddresses.length} source addresses.\n`);
  console.log(table([
    ['figure at N', 'ours', 'peer', 'ours/peer', 'better'],
    line('N visitors held', 'held', 'higher'),
    line('still open at the end', 'stillOpen', 'higher'),
    line('workerd fds held', 'workerdFdsHeld', '-'),
    line('workerd RSS per held socket (KiB)', 'rssPerSocketKB', 'lower'),
    line('workerd RSS after connect (MiB)', 'rssAfterMB', 'lower'),
    line('CPU ms per 1,000 connects', 'connect.cpuMsPer1000', 'lower'),
    line('idle CPU ms per second (keep-alives, sweep)', 'idleCpuMsPerSecond', 'lower'),
    line('admin connect -> users frame p50 (ms)', 'users.usersMs.p50', 'lower'),
    line('admin connect -> users frame max (ms)', 'users.usersMs.max', 'lower'),
    line('list request -> list frame p50 (ms; ours only)', 'list.listMs.p50', 'lower'),
    line('list request -> list frame max (ms; ours only)', 'list.listMs.max', 'lower'),
    line('steady 100/s across a sweep: p99 (ms)', 'sweepStall.p99', 'lower'),
    line('steady 100/s across a sweep: max (ms)', 'sweepStall.max', 'lower'),
    line('admin->visitor @500/s p99 (ms)', 'routed500.latencyMs.p99', 'lower'),
    line('CPU ms per 1,000 routed @500/s', 'routed500.cpuMsPer1000', 'lower'),
  ]));
}

export function printReport(rep, { scaleOnly = false } = {}) {
  if (scaleOnly) { printScale(rep); return; }
  const { results: R, ratios, parameters: p } = rep;
  const n = p.visitors;
  const line = (label, path, better) => [label, get(R.ours, path), get(R.peer, path), ratios[path] ?? '-', better];
  const fixed = (kind, what) => p.fixedRates.flatMap((r) => ['p50', 'p95', 'p99'].map((q) =>
    line(`${what} latency ${q} @${r}/s (ms)`, `${kind}.fixed.${r}.${q}`, 'lower')));
  // The headline: CPU time of the worker's workerd per unit of work (steadier than throughput on
  // a shared machine), with throughput beside it.
  const headline = [
    ['CPU (worker workerd, user+sys)', 'ours', 'peer', 'ours/peer', 'better'],
    line(`ms per 1,000 routed replies @${p.cpuRate}/s`, 'cpu.routed', 'lower'),
    line(`ms per 1,000 visitor messages @${p.cpuRate}/s`, 'cpu.inbound', 'lower'),
    line('ms per 1,000 connects', 'cpu.connect', 'lower'),
    line(`ms per second, ${n} sockets idle`, 'cpu.idle', 'lower'),
    line(`ms per 1,000 routed replies, closed loop`, 'cpu.closedRouted', 'lower'),
    line(`ms per 1,000 visitor messages, closed loop`, 'cpu.closedInbound', 'lower'),
    line(`ms per 1,000 typing frames (${n} visitors, one each per 2 s; ours only)`, 'cpu.typing', 'lower'),
    line(`(2c) routed replies, ${p.inFlight} in flight (msg/s)`, 'closed.routed.perSecond', 'higher'),
    line(`(2c) routed closed loop p99 (ms)`, 'closed.routed.latencyMs.p99', 'lower'),
    line(`(3c) visitor messages, ${p.inFlight} in flight (msg/s)`, 'closed.inbound.perSecond', 'higher'),
    line(`(3c) visitor closed loop p99 (ms)`, 'closed.inbound.latencyMs.p99', 'lower'),
  ];
  const rows = [
    ['figure', 'ours', 'peer', 'ours/peer', 'better'],
    line(`(1) connect ${n}: p50 (ms)`, 'connect.connectMs.p50', 'lower'),
    line(`(1) connect ${n}: p99 (ms)`, 'connect.connectMs.p99', 'lower'),
    line('(1) connects/s', 'connect.perSecond', 'higher'),
    line('(1) held sockets', 'connect.held', 'higher'),
    line('(1) workerd RSS per held socket (KiB)', 'connect.rssPerSocketKB', 'lower'),
    line('(1) workerd RSS after connect (MiB)', 'connect.rssAfterMB', 'lower'),
    line('(2) routed replies sustained (msg/s)', 'routed.sustainedPerSecond', 'higher'),
    line('(2) routed replies peak (msg/s)', 'routed.peakPerSecond', 'higher'),
    line('(2) routed: first rate that broke', 'routed.brokeAtRate', 'higher'),
    ...fixed('routed', '(2) admin->visitor'),
    line('(3) visitor->admin sustained (msg/s)', 'inbound.sustainedPerSecond', 'higher'),
    line('(3) visitor->admin peak (msg/s)', 'inbound.peakPerSecond', 'higher'),
    line('(3) inbound: first rate that broke', 'inbound.brokeAtRate', 'higher'),
    ...fixed('inbound', '(3) visitor->admin'),
    line('(3) unread rows wrong', 'inbound.unreadRowsWrong', 'lower'),
    line('(3b) admin connect -> users frame p50 (ms)', 'users.usersMs.p50', 'lower'),
    line('(3b) users rows / visitors online', 'users.rows', '-'),
    line('(5) typing frames sent', 'typing.sent', '-'),
    line('(5) typing frames forwarded to the admin', 'typing.forwarded', '-'),
    line('(4) hibernation cold wake (ms)', 'hibernation.coldWakeMs', 'lower'),
    line('(4) sockets held while hibernated', 'hibernation.heldSockets', 'higher'),
  ];
  console.log(`\nDesk benchmark, profile ${rep.profile}: ${n} visitors on one desk, ramp ${p.rates.join('/')} msg/s, ` +
    `${p.stepMs / 1000}s per step, breakdown at p99 > ${p.p99LimitMs} ms, error, loss or < 90% of the rate.`);
  console.log(`Machine: ${rep.machine.cpus} x ${rep.machine.cpuModel}, ${rep.machine.memGB} GB, Node ${rep.machine.node}.\n`);
  if (R.ours.cpu) console.log(`${table(headline)}\n`);
  console.log(table(rows));
  if (R.peerAssets?.connect) {
    const like = (label, path, better) => [label, get(R.ours, path), get(R.peerAssets, path), ratios[`likeForLike.${path}`] ?? '-', better];
    console.log(`\n${table([
      ['(1b) like for like: the peer with ours\' [assets] section', 'ours', 'peer+assets', 'ours/peer+assets', 'better'],
      like('ms CPU per 1,000 connects', 'connect.cpuMsPer1000', 'lower'),
      like('connects/s', 'connect.perSecond', 'higher'),
      like('workerd RSS per held socket (KiB)', 'connect.rssPerSocketKB', 'lower'),
    ])}`);
  }
  for (const kind of ['routed', 'inbound']) {
    console.log(`\n${kind} ramp steps (rate: delivered/s, p99 ms, lost, errors):`);
    for (const impl of ['ours', 'peer']) {
      const steps = R[impl][kind]?.steps ?? [];
      console.log(`  ${impl.padEnd(4)} ` + steps.map((s) => `${s.rate}: ${s.deliveredPerSecond}/s p99 ${s.latencyMs.p99} ${s.lost}/${s.errors}${s.ok ? '' : ' BROKE'}`).join(' | '));
    }
  }
  for (const impl of ['ours', 'peer']) {
    const probes = R[impl].hibernation?.probes ?? [];
    console.log(`hibernation probes ${impl}: ${probes.map((x) => `${x.ms} ms${x.woke ? ' (cold)' : ' (warm)'}`).join(', ')}`);
  }
  const pv = R.ours.pageViews;
  if (pv) {
    console.log(`\n(6) page views (ours): ${pv.views} views of a host page, ${pv.openPercent}% opened the chat: ` +
      `${pv.conversations} conversations, ${pv.socketsOpened} sockets opened, ${pv.visitorRowsCreated} visitor rows created, ` +
      `${pv.chatLoads} chat loads, ${pv.tickets} tickets, ${pv.statusRequests} status requests, ` +
      `${pv.idleAfterLoad} views idle after load, ${pv.seconds}s: ${pv.ok ? 'sockets and rows equal the conversations' : 'NOT equal to the conversations'}`);
  }
  printScale(rep);
  console.log('\nSizes:');
  for (const [k, s] of Object.entries(rep.sizes)) console.log(`  ${k.padEnd(10)} ${sizeCell(s)}`);
  console.log('');
}
