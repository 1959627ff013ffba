// Small numeric helpers for the bench: percentiles, medians, rounding, ratios.

/** The p-th percentile (0..100) of numbers, nearest-rank; null for an empty list. */
export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Latency summary in ms, rounded to 0.01. */
export function summary(values) {
  const r = (x) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    count: values.length,
    p50: r(percentile(values, 50)),
    p95: r(percentile(values, 95)),
    p99: r(percentile(values, 99)),
    max: r(values.length ? Math.max(...values) : null),
  };
}

export function round(x, digits = 2) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** ours / peer, or null when either is missing or the peer is 0. */
export function ratio(ours, peer) {
  if (typeof ours !== 'number' || typeof peer !== 'number' || peer === 0) return null;
  return round(ours / peer, 3);
}
