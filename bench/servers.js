// Starts and stops one `wrangler dev` per implementation and finds its workerd (pid, port, RSS).
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function descendants(pid) {
  const out = [];
  for (const c of children(pid)) out.push(c, ...descendants(c));
  return out;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Resident memory of a process in bytes (VmRSS), or null when it is gone. */
export function rssBytes(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Ports a process listens on (TCP, IPv4 loopback), from `ss`. */
function listeningPorts(pid) {
  const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => Number(l.split(/\s+/)[3].split(':').pop()));
}

/** Of a workerd's listening ports, the one serving the worker (a plain GET on a socket path: 426). */
async function workerPort(ports) {
  for (const p of ports) {
    try {
      const r = await fetch(`http://127.0.0.1:${p}/desks/bench-probe/visitor`, { signal: AbortSignal.timeout(2000) });
      await r.text();
      if (r.status === 426) return p;
    } catch {}
  }
  return null;
}

/**
 * The repo's wrangler.toml without its [build] section, run from a snapshot copy of build/: on a
 * shared machine another `make build` or an edit under src/, widget/ or admin/ would otherwise make
 * wrangler reload the worker mid-run (dropping every socket). Same worker, same bytes.
 * `from`: a build folder (another build's build/), or a checkout (a folder with wrangler.toml and
 * build/: its config and its build, for A/B runs of a configuration change). `assets: false`
 * drops the [assets] section (a diagnostic: the static-assets layer's cost per request).
 */
function configWithoutWatch(dir, from = null, assets = true) {
  const checkout = from && existsSync(join(from, 'wrangler.toml')) ? from : null;
  cpSync(checkout ? join(checkout, 'build') : from ?? join(ROOT, 'build'), join(dir, 'build'), { recursive: true });
  let text = readFileSync(join(checkout ?? ROOT, 'wrangler.toml'), 'utf8')
    .replace(/^\[build\][\s\S]*?(?=^\[)/m, '')
    .replace(/^main = "(.*)"/m, (_, m) => `main = "${join(dir, m)}"`)
    .replace(/^directory = "(.*)"/m, (_, d) => `directory = "${join(dir, d)}"`);
  if (!assets) text = text.replace(/^\[assets\][\s\S]*?(?=^\[)/m, '');
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, text);
  return path;
}

/**
 * The peer's wrangler.toml with the repo's [assets] section added (our build/assets, the same
 * routing): what the static-assets layer costs a TypeScript Worker too (a diagnostic).
 */
function peerWithAssets(dir) {
  const ours = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').match(/^\[assets\][\s\S]*?(?=^\[)/m)[0]
    .replace(/^directory = "(.*)"/m, (_, d) => `directory = "${join(ROOT, d)}"`);
  const text = readFileSync(join(ROOT, 'bench', 'peer-ts', 'wrangler.toml'), 'utf8')
    .replace(/^main = "(.*)"/m, (_, m) => `main = "${join(ROOT, 'bench', 'peer-ts', m)}"`);
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, `${text}\n${ours}`);
  return path;
}

/**
 * Starts the implementation an IMPL spec names, as the bench's tools take them on their command
 * line: `ours` or `peer`, optionally `+assets` / `-assets` (the peer with ours' `[assets]`
 * section, ours without it: like for like) and `@DIR` (ours from DIR: a copy of an earlier
 * build/, or a checkout with wrangler.toml and build/); or `floor` (bench/floor-js: the least a
 * Durable Object can do per message, a yardstick for the runtime's share; it speaks the peer's
 * frames), `floor@DIR` a variant of it (DIR's wrangler.toml, for an experiment). Resolves as `startServer`, plus `impl` (its name for the load generator).
 */
export async function startImpl(spec, options) {
  const floor = spec.match(/^floor(?:@(.+))?$/);
  if (floor) {
    const config = floor[1] ? join(floor[1], 'wrangler.toml') : join(ROOT, 'bench', 'floor-js', 'wrangler.toml');
    return { ...(await startServer({ name: 'floor', config, ...options })), impl: 'floor' };
  }
  const [, impl, toggle, build] = spec.match(/^(ours|peer)([+-]assets)?(?:@(.+))?$/) ?? [];
  if (!impl) throw new Error(`${spec}: expected ours|peer|floor, ours|peer optionally +assets/-assets and @DIR`);
  const assets = toggle ? toggle === '+assets' : null;
  const config = impl === 'peer' ? join(ROOT, 'bench', 'peer-ts', 'wrangler.toml') : null;
  return { ...(await startServer({ name: impl, config, build, assets, ...options })), impl };
}

/**
 * Starts `wrangler dev` for one implementation. `config` is a wrangler.toml path (null: the repo's).
 * Resolves once ready with { url, directUrl, pid (the worker's workerd), proxyPid, logs, stop() }.
 * `noWatch`: run the repo's worker from a copy of wrangler.toml without [build] (see above).
 * `build`: run ours from this folder (a copy of another build's build/) instead; implies noWatch,
 * so before/after builds of one change can run side by side in one invocation; a checkout folder
 * (wrangler.toml + build/) brings its own config too. `assets`: null leaves the config as it is;
 * false drops ours' [assets] section, true gives the peer ours' (see `configWithoutWatch`,
 * `peerWithAssets`). `persistTo`: the state folder (kept after `stop`), so a later server, e.g. a
 * newer build, opens the same desks: an upgrade checked on real data.
 * wrangler dev runs two workerd processes: a dev proxy on the public port, and the user worker on
 * a port of its own. `directUrl` reaches the latter without the proxy hop.
 */
export async function startServer({ name, config, adminToken, noWatch = false, build = null, assets = null, persistTo = null, timeoutMs = 90_000 }) {
  const tmp = mkdtempSync(join(tmpdir(), `desk-bench-${name}-`));
  if (!config && (noWatch || build || assets === false)) config = configWithoutWatch(tmp, build, assets !== false);
  else if (config && assets === true) config = peerWithAssets(tmp);
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
    '--persist-to', persistTo ?? join(tmp, 'state'), '--var', `ADMIN_TOKEN:${adminToken}`, '--log-level', 'log'];
  // One load generator stands in for many admins and visitors on one address: lift the abuse
  // limits (the limiter still runs on every frame, so its cost is measured). Any desk name exists
  // (DESKS=*), as the bench names its desks freely.
  for (const v of ['ADMIN_FRAMES_PER_SEC:1000000', 'ADMIN_FRAME_BURST:1000000', 'VISITOR_FRAMES_PER_SEC:1000000',
    'VISITOR_FRAME_BURST:1000000', 'NEW_VISITORS_PER_IP:0', 'VISITOR_BYTES_PER_DAY:1000000000000',
    'DESKS:*']) args.push('--var', v);
  // BENCH_VARS="KEY:VALUE KEY2:VALUE2": more Worker variables for ours and the peer alike (an
  // experiment, e.g. SOCKET_STALE_MS to move the stale-socket sweep out of a run).
  for (const v of (process.env.BENCH_VARS ?? '').split(/\s+/).filter(Boolean)) args.push('--var', v);
  if (config) args.push('-c', config);
  const env = {
    ...process.env, DESK_SKIP_BUILD: '1', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    XDG_CONFIG_HOME: join(tmp, 'config'), FORCE_COLOR: '0', NO_COLOR: '1', CI: '1',
  };
  const child = spawn(WRANGLER, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const logs = { text: '', starts: [] }; // starts: times (ms) of each 'desk object started' line
  const onData = (chunk) => {
    const s = chunk.toString();
    logs.text = (logs.text + s).slice(-200_000);
    for (const line of s.split('\n')) if (line.includes('desk object started')) logs.starts.push(Date.now());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const deadline = Date.now() + timeoutMs;
  while (!/Ready on http/.test(logs.text)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      throw new Error(`${name}: wrangler dev did not start:\n${logs.text.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The worker's workerd is the one not bound to the public port.
  let pid = null, proxyPid = null, directPort = null;
  while (Date.now() < deadline && (pid === null || directPort === null)) {
    const workerds = descendants(child.pid).filter((p) => cmdline(p)[0]?.endsWith('/workerd'));
    for (const p of workerds) {
      if (cmdline(p).some((a) => a === `--socket-addr=entry=127.0.0.1:${port}`)) proxyPid = p;
      else pid = p;
    }
    if (pid !== null) directPort = await workerPort(listeningPorts(pid));
    if (directPort === null) await new Promise((r) => setTimeout(r, 200));
  }
  if (pid === null) throw new Error(`${name}: no workerd process found under wrangler (pid ${child.pid})`);

  const stop = async () => {
    if (child.exitCode === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch {}
      const until = Date.now() + 5000;
      while (child.exitCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    }
    // Always, even if wrangler already exited: its workerd processes live on in the group
    // otherwise, burning CPU under every later run on the machine.
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    rmSync(tmp, { recursive: true, force: true });
  };
  return { name, url: `http://127.0.0.1:${port}`, directUrl: `http://127.0.0.1:${directPort}`, inspectorPort, pid, proxyPid, logs, stop,
    persistDir: persistTo ?? join(tmp, 'state') };
}

/** Open file descriptors of a process (sockets included), or null. */
export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
