// The floor: the least work a Durable Object can do per bench message (docs/performance.md,
// "The floor"), to measure how much of a message's CPU is the runtime's whatever the code is.
//
// It speaks the peer's subset of the wire (welcome, users, message/ack/user, ping), so the bench's
// load generator drives it as it drives the peer, and it keeps what both desks keep: every message
// stored before its ack (the runtime commits once per event, as for them), its conversation row
// updated, the ack, the copy to the other side and the row to the admins. Everything else goes, as
// the Rust desk does it where it can: one statement per message (a trigger updates the row), the
// rows and who each socket is kept in memory (this object is their only writer), ids taken from
// the sequence, no duplicate lookup unless the unique index refuses the insert. No checks beyond
// what keeps it correct for the bench: it is a yardstick, not a desk.
import { DurableObject } from "cloudflare:workers";

export default {
  fetch(request, env) {
    const match = new URL(request.url).pathname.match(/^\/desks\/([A-Za-z0-9_-]{1,64})\/(visitor|admin)$/);
    if (!match) return new Response("no such route", { status: 404 });
    if (request.headers.get("Upgrade") !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    if (match[2] === "admin" && request.headers.get("Authorization") !== `Bearer ${env.ADMIN_TOKEN}`) {
      return new Response("admin credential required", { status: 401 });
    }
    return env.DESK.get(env.DESK.idFromName(match[1])).fetch(request);
  },
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS visitors (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, unread INTEGER NOT NULL DEFAULT 0,
    last_message TEXT, last_sender TEXT, last_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS visitors_by_activity ON visitors(last_at DESC);
  CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL, sender TEXT NOT NULL, body TEXT NOT NULL,
    client_msg_id TEXT, at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_user ON messages(user_id, seq);
  CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
    ON messages(user_id, sender, client_msg_id) WHERE client_msg_id IS NOT NULL;
  CREATE TRIGGER IF NOT EXISTS messages_row AFTER INSERT ON messages BEGIN
    UPDATE visitors SET unread = unread + (new.sender = 'user'), last_message = substr(new.body, 1, 140),
      last_sender = new.sender, last_at = new.at WHERE id = new.user_id;
  END;`;

export class Desk extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    console.log("desk object started (floor)");
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    this.seq = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM messages").one().seq;
    this.rows = new Map(); // user id -> its row, as SQLite has it
    this.who = new WeakMap(); // socket -> its attachment, read once per instance
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  async fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    if (request.url.endsWith("/admin")) {
      this.ctx.acceptWebSocket(server, ["admin"]);
      server.serializeAttachment({ admin: true });
      const users = this.sql.exec("SELECT * FROM visitors WHERE last_at IS NOT NULL ORDER BY last_at DESC LIMIT 500")
        .toArray().map((v) => this.wireRow(v));
      server.send(JSON.stringify({ type: "users", users, seq: this.seq, resumed: false }));
    } else {
      const id = crypto.randomUUID();
      const name = `Visitor ${id.slice(0, 6).toUpperCase()}`;
      this.sql.exec("INSERT INTO visitors (id, name) VALUES (?, ?)", id, name);
      this.rows.set(id, { id, name, unread: 0, last_message: null, last_sender: null, last_at: null });
      this.ctx.acceptWebSocket(server, [id]);
      server.serializeAttachment({ admin: false, userId: id });
      server.send(JSON.stringify({ type: "welcome", userId: id, name, messages: [], hasMore: false, resumed: false }));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, raw) {
    let me = this.who.get(ws);
    if (!me) this.who.set(ws, (me = ws.deserializeAttachment()));
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return ws.send('{"type":"error","code":"bad_json","message":"not JSON"}');
    }
    if (frame.type !== "message" || typeof frame.message !== "string") {
      return ws.send('{"type":"error","code":"bad_frame","message":"expected a message"}');
    }
    const userId = me.admin ? frame.targetUserId : me.userId;
    const row = this.row(userId);
    if (!row) return ws.send('{"type":"error","code":"unknown_user","message":"no such visitor"}');
    const sender = me.admin ? "admin" : "user";
    const clientMsgId = typeof frame.clientMsgId === "string" ? frame.clientMsgId : null;
    const at = Date.now();
    const seq = this.seq + 1;
    const written = this.sql.exec(
      "INSERT INTO messages (seq, user_id, sender, body, client_msg_id, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      seq, userId, sender, frame.message, clientMsgId, at,
    ).rowsWritten;
    if (written === 0) {
      const m = this.sql.exec("SELECT seq, at FROM messages WHERE user_id = ? AND sender = ? AND client_msg_id = ?",
        userId, sender, clientMsgId).one();
      return ws.send(JSON.stringify({ type: "ack", clientMsgId, id: `m${m.seq}`, seq: m.seq, at: m.at, userId }));
    }
    this.seq = seq;
    if (sender === "user") row.unread += 1;
    row.last_message = frame.message.slice(0, 140);
    row.last_sender = sender;
    row.last_at = at;
    const id = `m${seq}`;
    ws.send(JSON.stringify({ type: "ack", clientMsgId, id, seq, at, ...(me.admin ? { userId } : {}) }));
    const visitorSockets = this.ctx.getWebSockets(userId);
    const forVisitor = JSON.stringify({ type: "message", id, seq, sender, message: frame.message, at, clientMsgId });
    for (const socket of visitorSockets) if (socket !== ws) socket.send(forVisitor);
    const forAdmins = JSON.stringify({ type: "message", userId, id, seq, sender, message: frame.message, at, clientMsgId });
    const rowFrame = JSON.stringify({ type: "user", user: this.wireRow(row, visitorSockets.length > 0) });
    for (const admin of this.ctx.getWebSockets("admin")) {
      if (admin !== ws) admin.send(forAdmins);
      admin.send(rowFrame);
    }
  }

  async webSocketClose(ws, code, reason) {
    ws.close(code, reason);
  }

  row(userId) {
    let row = this.rows.get(userId);
    if (!row && typeof userId === "string") {
      row = this.sql.exec("SELECT * FROM visitors WHERE id = ?", userId).toArray()[0];
      if (row) this.rows.set(userId, row);
    }
    return row;
  }

  wireRow(v, online = this.ctx.getWebSockets(v.id).length > 0) {
    return {
      userId: v.id, name: v.name, unread: v.unread, online,
      ...(v.last_at != null ? { lastMessage: v.last_message, lastSender: v.last_sender, lastAt: v.last_at } : {}),
    };
  }
}
