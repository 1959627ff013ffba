// Rate ramps for scenarios 2 and 3, both implementations interleaved step by step.
//
// At each rate, ours and the peer each run one step (who goes first alternates), so a burst of
// load from elsewhere on the machine hits both alike. A step that breaks down (any error or loss,
// p99 over the limit, or under 90% of the offered rate delivered) is retried once; the second
// failure ends that implementation's ramp. "sustained" is the delivered rate of the last step that
// held; "peak" the highest delivered rate of any step (≈ capacity once saturated).

export async function interleavedRamp({ kind, clients, impls, profile, p99LimitMs, log }) {
  const state = Object.fromEntries(impls.map((i) => [i, { steps: [], done: false, sustained: null, brokeAt: null, retries: 0 }]));
  const warm = new Set();
  for (const [k, rate] of profile.rates.entries()) {
    const order = k % 2 ? [...impls].reverse() : impls;
    for (const impl of order) {
      const st = state[impl];
      if (st.done) continue;
      const args = { kind, rate, stepMs: profile.stepMs, drainMs: profile.drainMs, p99LimitMs, warmUp: !warm.has(impl) };
      warm.add(impl);
      let r = await clients[impl].call('rampStep', args);
      if (!r.ok) {
        st.retries++;
        r = { ...(await clients[impl].call('rampStep', { ...args, warmUp: false })), retried: true };
      }
      st.steps.push(r);
      log(`${kind} ${impl} @${rate}/s: ${r.deliveredPerSecond}/s p99 ${r.latencyMs.p99} ms${r.ok ? '' : ' BROKE'}${r.retried ? ' (retried)' : ''}`);
      if (r.ok) st.sustained = r.deliveredPerSecond; else { st.brokeAt = rate; st.done = true; }
    }
    if (impls.every((i) => state[i].done)) break;
  }
  return Object.fromEntries(impls.map((impl) => {
    const { steps, sustained, brokeAt, retries } = state[impl];
    const fixed = Object.fromEntries(profile.fixedRates.map((f) => [f, steps.find((s) => s.rate === f && s.ok)?.latencyMs ?? null]));
    const last = steps.at(-1) ?? {};
    return [impl, {
      kind, sustainedPerSecond: sustained, peakPerSecond: Math.max(0, ...steps.map((s) => s.deliveredPerSecond)),
      brokeAtRate: brokeAt, saturated: brokeAt !== null, retries, fixed, steps,
      ...(kind === 'inbound' ? { unreadRowsChecked: last.unreadRowsChecked, unreadRowsWrong: last.unreadRowsWrong } : {}),
    }];
  }));
}
