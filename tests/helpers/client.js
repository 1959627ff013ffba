// A test's WebSocket client (re-exported by desk.js): buffers every frame and lets a test wait for
// the one it expects, with a timeout that reports what did arrive instead.
import WebSocket from 'ws';

const describe = (want) => (typeof want === 'string' ? `a "${want}" frame` : want.description ?? 'a matching frame');
const matcher = (want) => (typeof want === 'string' ? (f) => f.type === want : want);
const show = (frames) => (frames.length ? frames.map((f) => `  ${JSON.stringify(f)}`).join('\n') : '  (none)');

export class DeskClient {
  /** Every frame received, in order (consumed or not). */
  frames = [];
  /** The size in bytes of each frame received, as sent (UTF-8), in the same order as `frames`. */
  sizes = [];
  /** Frames not yet consumed by `next`. */
  #buffer = [];
  #waiters = new Set();

  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data, isBinary) => {
      let frame;
      try {
        frame = JSON.parse(String(data));
      } catch {
        frame = { type: '<not json>', raw: String(data), isBinary };
      }
      this.frames.push(frame);
      this.sizes.push(Buffer.isBuffer(data) ? data.length : Buffer.byteLength(String(data)));
      this.#buffer.push(frame);
      for (const w of [...this.#waiters]) w();
    });
    ws.on('error', () => {}); // a failed handshake rejects open(); later errors show up as 'close'
  }

  /** Opens a socket; rejects with `err.status`/`err.body` when the server refuses the upgrade. */
  static open(url, { headers = {}, protocols } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { headers, handshakeTimeout: 10_000 });
      const client = new DeskClient(ws, url.replace(/\?.*/, ''));
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          const err = new Error(`upgrade of ${url} refused: HTTP ${res.statusCode} ${body}`);
          Object.assign(err, { status: res.statusCode, body });
          ws.terminate();
          reject(err);
        });
      });
      ws.once('error', reject);
    });
  }

  /** The subprotocol the server selected ('' when none). */
  get protocol() {
    return this.ws.protocol;
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  sendRaw(data, options) {
    this.ws.send(data, options);
  }

  /**
   * The first frame, buffered or future, that is of type `want` (a string) or satisfies `want`
   * (a predicate). It is consumed; earlier frames that do not match stay buffered.
   */
  next(want, { timeout = 5000 } = {}) {
    const match = matcher(want);
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.#buffer.findIndex(match);
        if (i < 0) return false;
        const [frame] = this.#buffer.splice(i, 1);
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(frame);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.label}: no ${describe(want)} within ${timeout} ms; frames seen:\n${show(this.frames)}`));
      }, timeout);
      if (!check()) this.#waiters.add(check);
    });
  }

  /**
   * Asserts that no frame matching `want` is buffered or arrives within `ms`: the one place a
   * fixed wait is right, since absence cannot be waited for. Matching frames are not consumed.
   */
  expectNone(want = () => true, ms = 500) {
    const match = matcher(want);
    return new Promise((resolve, reject) => {
      const fail = (frame) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        reject(new Error(`${this.label}: expected no ${describe(want)}, got ${JSON.stringify(frame)}; frames seen:\n${show(this.frames)}`));
      };
      const check = () => {
        const hit = this.#buffer.find(match);
        if (hit) fail(hit);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        resolve();
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }

  /** Frames received and not consumed yet. */
  get pending() {
    return [...this.#buffer];
  }

  /** Consumes every buffered frame (e.g. before asserting that nothing new arrives). */
  drain() {
    return this.#buffer.splice(0);
  }

  /** Closes the socket and waits for the close handshake (terminates after 3 s). */
  async close(code = 1000) {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close(code);
    const timer = setTimeout(() => this.ws.terminate(), 3000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** A predicate with a description, for clearer timeout messages: `where('ack for c-1', f => ...)`. */
export function where(description, predicate) {
  return Object.assign((f) => predicate(f), { description });
}
