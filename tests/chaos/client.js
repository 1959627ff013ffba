// A chat client that behaves as the widget and admin page must on a flaky network: an outbox of
// unacked sends (each with a clientMsgId, resent after every reconnect, and after `retryAfterMs`
// when the desk answers `rate_limited`), resume by seq/epoch, reconnect with backoff and jitter.
// It counts what it receives so the chaos test can prove "nothing lost, nothing doubled".
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export class ResilientClient {
  /** role: 'visitor' | 'admin'. onChange() is called after every frame and state change. */
  constructor({ url, desk, role, adminToken, onChange = () => {} }) {
    Object.assign(this, { url, desk, role, adminToken, onChange });
    this.token = null;
    this.userId = null;
    this.epoch = null;
    this.since = null; // largest seq this client has seen in order
    this.outbox = new Map(); // clientMsgId -> frame, until acked
    this.acked = new Map(); // clientMsgId -> { id, seq }
    this.deliveries = new Map(); // message id -> times delivered (live or by resume)
    this.sent = 0;
    this.retried = 0; // frames sent again while unacked (on reconnect, or an eager retry)
    this.resets = 0; // fresh snapshots received when a resume was asked for
    this.connects = 0;
    this.stopped = false;
    this.attempt = 0;
    this.ws = null;
    this.open = false;
    this.firstSeq = null; // admins: the desk's seq when first connected (they are owed what follows)
    this.outOfOrder = 0; // deliveries whose seq was not above the previous one
    this.lastDelivered = -1;
    this.errors = 0; // refusals other than rate_limited: none are expected
    this.rateLimited = 0; // rate_limited answers, each waited out and the frame sent again
    // Admins after a fresh snapshot (`users` with resumed: false when a resume was asked for): the
    // messages missed in the gap are read back with `history`, one page at a time, as the inbox
    // reloads a conversation. Each entry: { userId, since, before }; kept across reconnects.
    this.gaps = [];
    this.gapAsked = null; // the entry whose page is awaited on the current socket
    this.caughtUp = 0; // messages received by reading a gap back
  }

  /** Whether this client still has a gap to read back (the chaos run waits for none). */
  catchingUp() {
    return this.gaps.length > 0 || this.gapAsked !== null;
  }

  connect() {
    if (this.stopped) return;
    const q = new URLSearchParams();
    if (this.token) q.set('token', this.token);
    if (this.epoch && this.since !== null) {
      q.set('since', String(this.since));
      q.set('epoch', this.epoch);
    }
    const path = `/desks/${this.desk}/${this.role}?${q}`;
    const headers = this.role === 'admin' ? { Authorization: `Bearer ${this.adminToken}` } : {};
    const ws = new WebSocket(this.url.replace(/^http/, 'ws') + path, { headers, handshakeTimeout: 5000 });
    this.ws = ws;
    this.asked = q.has('since');
    ws.on('message', (data) => this.#frame(JSON.parse(String(data))));
    ws.on('close', () => this.#lost(ws));
    ws.on('error', () => {}); // 'close' follows and handles it
  }

  /** Queues a message (to `targetUserId` for admins); it is sent now if connected, else later. */
  send(message, targetUserId, { retryAtOnce = false } = {}) {
    const clientMsgId = randomUUID();
    const frame = { type: 'message', message, clientMsgId, ...(targetUserId ? { targetUserId } : {}) };
    this.outbox.set(clientMsgId, frame);
    this.sent += 1;
    if (this.open) {
      this.ws.send(JSON.stringify(frame));
      // A retry before the ack (an impatient client, a double click): the desk must store it once.
      if (retryAtOnce) this.ws.send(JSON.stringify(frame)), (this.retried += 1);
    }
    return clientMsgId;
  }

  /** Cuts the connection abruptly, as a flaky network does; the client comes back by itself. */
  drop() {
    if (this.ws) this.ws.terminate();
  }

  /** Cuts the connection and stays away for `ms` (a laptop closed for a while), then comes back. */
  hold(ms) {
    this.heldUntil = Date.now() + ms;
    this.drop();
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.terminate();
  }

  #lost(ws) {
    if (ws !== this.ws) return;
    this.open = false;
    if (this.gapAsked) this.gaps.unshift(this.gapAsked), (this.gapAsked = null);
    this.onChange(this);
    if (this.stopped) return;
    const backoff = Math.min(2000, 100 * 2 ** Math.min(this.attempt, 5));
    this.attempt += 1;
    const away = Math.max(0, (this.heldUntil ?? 0) - Date.now());
    setTimeout(() => this.connect(), away + backoff / 2 + Math.random() * backoff);
  }

  #seen(seq) {
    if (this.since === null || seq > this.since) this.since = seq;
  }

  #deliver(m) {
    this.deliveries.set(m.id, (this.deliveries.get(m.id) ?? 0) + 1);
    if (m.seq <= this.lastDelivered) this.outOfOrder += 1;
    this.lastDelivered = Math.max(this.lastDelivered, m.seq);
    this.#seen(m.seq);
  }

  /** A stored message of this client's own, seen in a replay: it settles the outbox entry. */
  #own(m) {
    if (!m.clientMsgId || !this.outbox.has(m.clientMsgId) && !this.acked.has(m.clientMsgId)) return false;
    this.#ack({ clientMsgId: m.clientMsgId, id: m.id, seq: m.seq });
    return true;
  }

  #ack({ clientMsgId, id, seq }) {
    this.outbox.delete(clientMsgId);
    if (!this.acked.has(clientMsgId)) this.acked.set(clientMsgId, { id, seq });
    this.#seen(seq);
  }

  /** A send refused as too fast: still in the outbox, sent again when the desk says (as the widget
   *  and inbox do); a reconnect before then resends it anyway. */
  #later(f) {
    this.rateLimited += 1;
    const ws = this.ws;
    setTimeout(() => {
      const frame = this.outbox.get(f.clientMsgId);
      if (!frame || this.stopped || ws !== this.ws || !this.open) return;
      ws.send(JSON.stringify(frame));
      this.retried += 1;
    }, Number(f.retryAfterMs) || 1000);
  }

  #ready() {
    this.open = true;
    this.attempt = 0;
    this.connects += 1;
    for (const frame of this.outbox.values()) this.ws.send(JSON.stringify(frame)), (this.retried += 1);
    this.#nextGap();
  }

  /** Asks for the next page of the first gap still to read (one request in flight per socket). */
  #nextGap() {
    if (!this.open || this.gapAsked || this.gaps.length === 0) return;
    this.gapAsked = this.gaps.shift();
    const { userId, before } = this.gapAsked;
    this.ws.send(JSON.stringify({ type: 'history', userId, limit: 200, ...(before ? { before } : {}) }));
  }

  /** A page of a gap: what this client had not received is delivered (a reload, so not counted
   *  as out of order); older pages are asked for until the gap's start is reached. */
  #gapPage(f) {
    const gap = this.gapAsked;
    this.gapAsked = null;
    for (const m of f.messages) {
      if (m.seq <= gap.since) continue;
      if (m.sender === 'admin' && this.#own(m)) continue;
      if (this.deliveries.has(m.id)) continue;
      this.deliveries.set(m.id, 1);
      this.caughtUp += 1;
    }
    const oldest = f.messages[0]?.seq;
    if (f.hasMore && oldest !== undefined && oldest > gap.since + 1) this.gaps.unshift({ ...gap, before: oldest });
    this.#nextGap();
  }

  #frame(f) {
    switch (f.type) {
      case 'welcome': {
        Object.assign(this, { userId: f.userId, token: f.token, epoch: f.epoch });
        if (this.asked && !f.resumed) this.resets += 1;
        for (const m of f.messages) {
          if (m.sender === 'user') this.#own(m), this.#seen(m.seq);
          else if (f.resumed || !this.deliveries.has(m.id)) this.#deliver(m);
          else this.#seen(m.seq);
        }
        this.#ready();
        break;
      }
      case 'users':
        this.epoch = f.epoch;
        if (this.asked && !f.resumed) {
          this.resets += 1;
          // Too far behind to replay: read back every conversation active since what we saw.
          if (f.hasMore) this.errors += 1; // the chaos desk's rows all fit in one `users` frame
          for (const row of f.users) {
            if (row.lastSeq > this.since && !this.gaps.some((g) => g.userId === row.userId)) {
              this.gaps.push({ userId: row.userId, since: this.since });
            }
          }
        }
        // A fresh snapshot starts here; a resumed one is followed by the replay itself.
        if (!f.resumed) this.#seen(f.seq);
        if (this.firstSeq === null) this.firstSeq = f.seq;
        this.#ready();
        break;
      case 'message':
        if (this.role === 'admin' && f.sender === 'admin' && this.#own(f)) break;
        this.#deliver(f);
        break;
      case 'ack':
        this.#ack(f);
        break;
      case 'history':
        if (this.gapAsked && f.userId === this.gapAsked.userId) this.#gapPage(f);
        break;
      case 'error':
        if (f.code === 'rate_limited' && !f.clientMsgId && this.gapAsked) {
          // The page request itself was refused as too fast: ask again when told.
          this.rateLimited += 1;
          const ws = this.ws;
          this.gaps.unshift(this.gapAsked);
          this.gapAsked = null;
          setTimeout(() => ws === this.ws && this.#nextGap(), Number(f.retryAfterMs) || 1000);
        } else if (f.code === 'rate_limited') this.#later(f);
        else this.errors += 1;
        this.lastError = f;
        break;
      default:
        break;
    }
    this.onChange(this);
  }
}
