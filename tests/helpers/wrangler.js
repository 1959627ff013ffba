// `wrangler dev` for the tests that need the real CLI (the browser stage, restarts, chaos): the
// built worker, no rebuild, on ports of its own. Split from desk.js, which re-exports it.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { ADMIN_TOKEN, HARNESS_VARS, LogLines, ROOT, freePort, removeTempDir, tempDir, withVars } from './desk.js';

/** `wrangler dev` on the built worker (no rebuild), persisted to `persistDir` (a temp dir if none).
 *  `vars` adds or overrides Worker variables, like Miniflare's `bindings` (one given as
 *  `undefined` is not passed, so wrangler.toml's `[vars]` value applies). */
export async function startWranglerDev(options = {}) {
  // The port is free when chosen but another process (the machine is shared) may take it before
  // workerd binds (CI saw it once): start again on other ports, unless the caller chose the port.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startWranglerDevOnce(options);
    } catch (err) {
      if (options.port || attempt >= 3 || !/Address already in use/.test(err?.message)) throw err;
    }
  }
}

async function startWranglerDevOnce({ persistDir, port, vars = {}, timeout = 60_000 }) {
  const ownDir = !persistDir;
  const dir = persistDir ?? tempDir('desk-wrangler-state-');
  const configHome = tempDir('desk-wrangler-config-');
  const p = port ?? (await freePort());
  // Its own inspector port too: the default (9229) clashes when several wrangler devs run at once.
  const inspector = await freePort();
  const logs = new LogLines();
  const child = spawn(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['dev', '--port', String(p), '--ip', '127.0.0.1', '--inspector-port', String(inspector), '--persist-to', dir,
      '--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`,
      ...Object.entries(withVars(HARNESS_VARS, vars)).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
    {
      cwd: ROOT,
      detached: true, // its own process group, so stop() ends workerd too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DESK_SKIP_BUILD: '1',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        XDG_CONFIG_HOME: configHome,
        CI: 'true',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
    },
  );
  child.stdout.on('data', (c) => logs.feed(c, 'out'));
  child.stderr.on('data', (c) => logs.feed(c, 'err'));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const end = async (signal) => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, signal); } catch { /* already gone */ }
      const hard = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(hard);
    }
    // workerd may outlive wrangler for a moment: make sure the whole group is gone.
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await waitPortFree(p);
    removeTempDir(configHome);
    if (ownDir) removeTempDir(dir);
  };

  const ready = logs.waitFor(/Ready on http/, { timeout });
  ready.catch(() => {}); // reported through the race below
  const died = exited.then(({ code, signal }) => {
    throw new Error(`wrangler dev exited (code ${code}, signal ${signal}) before it was ready:\n${logs.text}`);
  });
  died.catch(() => {}); // only the race below cares; exits after ready are the caller's (stop/kill)
  try {
    await Promise.race([ready, died]);
  } catch (err) {
    await end('SIGKILL');
    throw err;
  }
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    logs,
    waitForLog: (pattern, opts) => logs.waitFor(pattern, opts),
    /** Graceful stop of wrangler and its workerd; resolves when they are gone and the port is free. */
    stop: () => end('SIGTERM'),
    /** SIGKILL, as a crash: nothing beyond what was committed survives. */
    kill: () => end('SIGKILL'),
  };
}

/** Resolves once nothing listens on 127.0.0.1:port (a restart on the same port can bind). */
async function waitPortFree(port, timeout = 10_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const busy = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (!busy || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 100)); // polling a port, not synchronising frames
  }
}
