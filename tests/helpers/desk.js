// The one shared test harness: runs the built worker in workerd (Miniflare or `wrangler dev`) and
// opens real WebSockets on it, with a client that waits on frames (never on sleeps).
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Log, LogLevel, Miniflare, Response as MiniflareResponse } from 'miniflare';
import { DeskClient, where } from './client.js';
export { startWranglerDev } from './wrangler.js';

export { DeskClient, where };

/** The admin secret every harness configures. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';
/** The repository root: paths are resolved from here, whatever the cwd. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SUBPROTOCOL = 'support-desk.v1';
/** The identity secret harnesses configure when a test asks for verified identity. */
export const IDENTITY_SECRET = 'test-identity-secret-0123456789';
/** Limits high enough for tests that send hundreds of frames from one socket on purpose. */
export const BULK_LIMITS = {
  VISITOR_FRAMES_PER_SEC: '100000', VISITOR_FRAME_BURST: '100000',
  ADMIN_FRAMES_PER_SEC: '100000', ADMIN_FRAME_BURST: '100000', VISITOR_BYTES_PER_DAY: '0',
};

/** A desk's identity key, what the operator gives the site embedding that desk (docs/widget.md):
 *  hex(HMAC-SHA256(IDENTITY_SECRET, "desk:" + desk)). */
export const deskKey = (desk, secret = IDENTITY_SECRET) => createHmac('sha256', secret).update(`desk:${desk}`).digest('hex');

/** What a host site's server computes to vouch for `userId` on `desk`: HMAC-SHA256 keyed with the
 *  desk's key (its hex text), hex. Valid on that desk only. */
export const userHash = (desk, userId, secret = IDENTITY_SECRET) =>
  createHmac('sha256', deskKey(desk, secret)).update(userId).digest('hex');

/** The subprotocol carrying an identity claim (`userHash` may be left out, to test refusals). */
export const identityProtocol = ({ userId, userHash: hash }) =>
  `support-desk.identity.${Buffer.from(userId, 'utf8').toString('hex')}${hash === undefined ? '' : `.${hash}`}`;

/** The line the desk object's constructor logs each time an instance starts. */
export const STARTED_LINE = 'desk object started';
/** The line the directory object (created desks) logs on each read of its list. */
export const DIRECTORY_READ_LINE = 'directory read:';
/** Worker variables every harness sets unless a test overrides them: any desk name exists (tests
 *  use a fresh desk name each), as in `make dev`. A value given as `undefined` leaves it unset. */
export const HARNESS_VARS = { DESKS: '*', ATTACHMENT_SECRET: 'test-attachment-secret-0123456789abcdef' };
/** The secret attachment URLs are signed with in every harness (`ATTACHMENT_SECRET`). */
export const ATTACHMENT_SECRET = HARNESS_VARS.ATTACHMENT_SECRET;
/** The R2 binding files are stored in (wrangler.toml's `[[r2_buckets]]`). */
export const ATTACHMENTS_BUCKET = 'ATTACHMENTS';

/** `defaults` overridden by `given`, without the keys given as `undefined`. */
export const withVars = (defaults, given) =>
  Object.fromEntries(Object.entries({ ...defaults, ...given }).filter(([, v]) => v !== undefined));

// ---- temp dirs and ports ------------------------------------------------------------------------

const tempDirs = new Set();
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the process exits (or earlier with `removeTempDir`). */
export function tempDir(prefix = 'desk-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A unique desk name per test, so tests sharing a runtime never see each other. */
export function deskName(label = 'desk') {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

// ---- log capture ----------------------------------------------------------------------------------

/** Collects the runtime's output line by line; tests wait for lines with `waitFor`. */
export class LogLines {
  lines = [];
  #waiters = new Set();
  #partial = { out: '', err: '', mf: '' };

  feed(chunk, stream = 'out') {
    const text = this.#partial[stream] + String(chunk);
    const parts = text.split('\n');
    this.#partial[stream] = parts.pop();
    for (const line of parts) this.lines.push(line);
    if (parts.length) for (const w of [...this.#waiters]) w();
  }

  /** How many lines so far contain `pattern` (string or RegExp), counting from line `since`. */
  count(pattern, since = 0) {
    const hit = typeof pattern === 'string' ? (l) => l.includes(pattern) : (l) => pattern.test(l);
    return this.lines.slice(since).filter(hit).length;
  }

  /** Resolves once `count` lines from line `since` on contain `pattern`. */
  waitFor(pattern, { count = 1, since = 0, timeout = 10_000 } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.count(pattern, since) < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const seen = this.count(pattern, since);
        reject(new Error(`timed out after ${timeout} ms waiting for ${count} log line(s) matching ${pattern}` +
          ` (saw ${seen}); output since:\n${this.lines.slice(since).slice(-40).join('\n')}`));
      }, timeout);
      this.#waiters.add(check);
      check();
    });
  }

  get text() {
    return this.lines.join('\n');
  }
}

// ---- runtimes -------------------------------------------------------------------------------------

/** The built worker in Miniflare (workerd), on 127.0.0.1. In-memory storage unless `persistDir`;
 *  `bindings` adds or overrides Worker variables (e.g. SOCKET_STALE_MS, or `DESKS: 'acme'`). `tail: true`
 *  attaches a Tail Worker, as a deployment's log consumer would be: every event it gets is in `.tail`. */
export async function startMiniflare({ persistDir, bindings = {}, tail = false, email = false } = {}) {
  // The port is free when chosen but another process (the machine is shared) may take it before
  // workerd binds: dispose of the failed instance, so it keeps nothing alive, and try another.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startMiniflareOnce({ persistDir, bindings, tail, email });
    } catch (err) {
      if (err?.code !== 'ERR_ADDRESS_IN_USE' || attempt >= 3) throw err;
    }
  }
}

/**
 * A Tail Worker that forwards every event it is given to the test, as JSON: each trace item as a
 * log consumer sees it (`wrangler tail`, Workers Logs and Tail Workers get these, redacted by the
 * runtime's rules), plus the request as `getUnredacted()` shows it, so a test can tell what the
 * redaction hid from what was never there.
 */
const TAIL_WORKER = `
function plain(value, depth = 0) {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (depth > 8) return '<deep>';
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  if (value instanceof Headers) return Object.fromEntries(value);
  const out = {};
  for (const key in value) {
    try { out[key] = plain(value[key], depth + 1); } catch (e) { out[key] = '<unreadable>'; }
  }
  return out;
}
export default {
  async tail(events, env) {
    const items = events.map((item) => {
      const request = item.event && item.event.request;
      let unredacted = null;
      try { unredacted = request && request.getUnredacted ? plain(request.getUnredacted()) : null; } catch (e) { unredacted = null; }
      return { item: plain(item), unredacted };
    });
    await env.SINK.fetch('http://sink/', { method: 'POST', body: JSON.stringify(items) });
  },
};`;

/** What a Tail Worker received: `events` ({ item, unredacted }), and a wait for one that matches. */
class TailEvents {
  events = [];
  #waiters = new Set();

  feed(items) {
    this.events.push(...items);
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once `count` events satisfy `match`. */
  waitFor(match, { count = 1, timeout = 10_000, description = 'a matching tail event' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.events.filter(match).length < count) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${count} × ${description}; have ${this.events.length} events:\n` +
          this.events.slice(-20).map((e) => JSON.stringify(e.item).slice(0, 300)).join('\n')));
      }, timeout);
      this.#waiters.add(check);
      check();
    });
  }
}

/** Miniflare's own log (not the runtime's stdout) into `logs`: where the local `send_email`
 *  simulation says which `.eml` file it wrote each message to. */
class CapturingLog extends Log {
  constructor(logs) { super(LogLevel.INFO); this.logs = logs; }
  log(message) { this.logs.feed(`${message}\n`, 'mf'); }
}

/** The worker variables and binding that turn email on in a harness (`email: true`): the binding
 *  `EMAIL` of wrangler.toml's `[[send_email]]`, simulated by Miniflare (each message an `.eml`). */
export const EMAIL_VARS = { EMAIL_FROM: 'support@desk.test', EMAIL_FROM_NAME: 'Desk Support', PUBLIC_URL: 'http://desk.test' };

/** The `.eml` files the local `send_email` simulation wrote, in order, read back as text. */
export async function sentEmails(runtime) {
  const { readFile } = await import('node:fs/promises');
  const paths = runtime.logs.lines.map((l) => l.trim()).filter((l) => /^\/\S+\.eml$/.test(l));
  return Promise.all(paths.map(async (path) => ({ path, raw: await readFile(path, 'utf8') })));
}

async function startMiniflareOnce({ persistDir, bindings, tail, email }) {
  const logs = new LogLines();
  const port = await freePort();
  const tailEvents = tail ? new TailEvents() : null;
  const deskWorker = {
    name: 'desk',
    modules: true,
    scriptPath: join(ROOT, 'build/index.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-20',
    durableObjects: {
      DESK: { className: 'Desk', useSQLite: true },
      DIRECTORY: { className: 'Directory', useSQLite: true },
      LIMITER: { className: 'Limiter', useSQLite: true },
    },
    // As wrangler.toml's [assets]: /desks/* goes to the Worker first (`run_worker_first`).
    assets: {
      directory: join(ROOT, 'build/assets'),
      binding: 'ASSETS',
      routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/desks/*'] } },
    },
    r2Buckets: [ATTACHMENTS_BUCKET],
    bindings: withVars({ ADMIN_TOKEN, ...HARNESS_VARS, ...(email ? EMAIL_VARS : {}) }, bindings),
    ...(email ? { email: { send_email: [{ name: 'EMAIL' }] } } : {}),
  };
  const shared = {
    ...(email ? { log: new CapturingLog(logs) } : {}),
    ...(persistDir ? { durableObjectsPersist: persistDir, r2Persist: join(persistDir, 'r2') } : {}),
    host: '127.0.0.1',
    port,
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', (c) => logs.feed(c, 'out'));
      stderr.on('data', (c) => logs.feed(c, 'err'));
    },
  };
  const sink = async (request) => {
    tailEvents.feed(JSON.parse(await request.text()));
    return new MiniflareResponse('ok');
  };
  const mf = new Miniflare(tail
    ? {
      ...shared,
      workers: [
        { ...deskWorker, tails: ['tail'] },
        { name: 'tail', modules: true, script: TAIL_WORKER, compatibilityDate: '2026-04-20', serviceBindings: { SINK: sink } },
      ],
    }
    : { ...shared, ...deskWorker });
  let ready;
  try {
    ready = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  const url = `http://127.0.0.1:${ready.port || port}`;
  let disposed = false;
  return {
    url,
    mf,
    logs,
    tail: tailEvents,
    waitForLog: (pattern, opts) => logs.waitFor(pattern, opts),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await mf.dispose();
    },
  };
}

// ---- clients ---------------------------------------------------------------------------------------

const wsUrl = (url, path) => url.replace(/^http/, 'ws') + path;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A visitor socket; resolves once open (its first frame, `welcome`, is then waiting in `.next`).
 *  `identity: { userId, userHash }` presents a verified identity, as the widget does. */
export function connectVisitor(url, desk, { token, name, since, epoch, headers, identity } = {}) {
  const path = `/desks/${desk}/visitor${query({ token, name, since, epoch })}`;
  const protocols = identity ? [SUBPROTOCOL, identityProtocol(identity)] : undefined;
  return DeskClient.open(wsUrl(url, path), { headers, protocols });
}

/** An admin socket, with the secret as a Bearer header or (as browsers do) in a subprotocol. */
export function connectAdmin(url, desk, { token = ADMIN_TOKEN, via = 'bearer', since, epoch, headers = {} } = {}) {
  const path = `/desks/${desk}/admin${query({ since, epoch })}`;
  if (via === 'subprotocol') {
    const protocols = [SUBPROTOCOL, `support-desk.token.${Buffer.from(token, 'utf8').toString('hex')}`];
    return DeskClient.open(wsUrl(url, path), { headers, protocols });
  }
  return DeskClient.open(wsUrl(url, path), { headers: { Authorization: `Bearer ${token}`, ...headers } });
}

/**
 * Asks for a ticket as the widget (`kind: 'visitor'`, `body` `{token, name, userId, userHash}` sent
 * as text/plain) or the inbox (`kind: 'admin'`, `token` as a Bearer header) does. Resolves
 * `{ status, body }` (`body.ticket`, `body.expiresIn` when issued).
 */
export async function requestTicket(url, desk, { kind = 'visitor', body = {}, token, headers = {} } = {}) {
  const res = await fetch(`${url}/desks/${desk}/${kind}/ticket`, {
    method: 'POST',
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: kind === 'visitor' ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}

/** The subprotocol that presents a ticket, as browsers do. */
export const ticketProtocol = (ticket) => `support-desk.ticket.${ticket}`;

/** A socket opened with a ticket only (`kind` 'visitor' or 'admin'), as the widget and inbox open theirs. */
export function connectWithTicket(url, desk, ticket, { kind = 'visitor', since, epoch, headers } = {}) {
  const path = `/desks/${desk}/${kind}${query({ since, epoch })}`;
  return DeskClient.open(wsUrl(url, path), { headers, protocols: [SUBPROTOCOL, ticketProtocol(ticket)] });
}

/** The headers of a WebSocket handshake, as [name, value] pairs (a fresh key each time). */
export function handshakeHeaders() {
  return [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')]];
}

/**
 * Sends a WebSocket upgrade request and reports how it was answered, without opening a socket:
 * `{ status, headers, body, text }` (`body` is the parsed JSON when the answer is JSON, else the
 * text). A header given as `null` is left out (e.g. `{ Upgrade: null }` for a plain GET). `method`
 * and `body` change the request line and add a body.
 */
export function upgradeStatus(url, path, headers = {}, { method = 'GET', body } = {}) {
  const all = { ...Object.fromEntries(handshakeHeaders()), ...headers };
  if (!all.Upgrade) delete all.Connection;
  return rawRequest(url, path, { method, body, headers: Object.entries(all).filter(([, v]) => v !== null && v !== undefined) });
}

/**
 * One HTTP request exactly as given, on a fresh connection: the path is sent verbatim (no URL
 * normalisation, so `..`, `%2e` and `//` reach the server as written) and `headers` is a list of
 * [name, value] pairs, so a header may be doubled. `Host` and `Connection: close` are added
 * unless given; `Content-Length` when there is a body. Resolves like `upgradeStatus`.
 */
export function rawRequest(url, path, { method = 'GET', headers = [], body } = {}) {
  const { hostname, port, host } = new URL(url);
  const has = (name) => headers.some(([k]) => k.toLowerCase() === name);
  const pairs = [...(has('host') ? [] : [['Host', host]]), ...(has('connection') ? [] : [['Connection', 'close']]), ...headers];
  if (body !== undefined) pairs.push(['Content-Length', String(Buffer.byteLength(body))]);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path, agent: false, headers: pairs.flat() });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: '', text: '' });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
