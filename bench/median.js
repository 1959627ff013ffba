// Medians over several bench result files: `node bench/median.js a.json b.json ... [--out median.json]`.
//
// Every numeric figure (per implementation and scenario) and every ratio becomes the median of the
// runs; the ratios are the medians of the per-run ratios (each run alternates on the same machine
// state), not ratios of medians. Prints the same table as run.js; ramp steps and probes shown are
// those of the first file.
import { readFileSync, writeFileSync } from 'node:fs';
import { median, round } from './stats.js';
import { printReport } from './report.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
const runs = args.map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (!runs.length) throw new Error('usage: node bench/median.js run1.json run2.json ... [--out file]');

/** Walks `shape` (the first run); numbers become the median of the same path in every run. */
function merge(shape, path) {
  if (typeof shape === 'number') {
    return round(median(runs.map((r) => path.reduce((o, k) => (o == null ? null : o[k]), r))), 3);
  }
  if (Array.isArray(shape) || shape === null || typeof shape !== 'object') return shape;
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, merge(v, [...path, k])]));
}

const first = runs[0];
const report = {
  ...first,
  medianOf: runs.map((r) => r.startedAt),
  results: merge(first.results, ['results']),
  ratios: Object.fromEntries(Object.keys(first.ratios).map((k) => [k, round(median(runs.map((r) => r.ratios[k])), 3)])),
};
printReport(report);
console.log(`(medians of ${runs.length} runs: ${report.medianOf.join(', ')})`);
if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
