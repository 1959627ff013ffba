// The benchmark's TypeScript peer: the desk's bench frames (docs/protocol.md) as a plain Durable Object.
//
// Written the way Cloudflare's docs and templates write a chat room: one SQLite-backed object per
// desk, hibernatable sockets (ctx.acceptWebSocket with the user id as tag, serializeAttachment),
// ctx.storage.sql.exec for every message and unread count, ctx.getWebSockets(tag) to route. It
// implements what bench/run.js exercises (welcome, users, message/ack/user, ping), not the whole
// protocol (no resume, history or read): it is a yardstick, not a second server.
import { DurableObject } from "cloudflare:workers";

export interface Env {
  DESK: DurableObjectNamespace<Desk>;
  ADMIN_TOKEN?: string;
}

type Attachment = { role: "visitor"; userId: string } | { role: "admin" };

const MAX_MESSAGE_CHARS = 4000;

function problem(status: number, code: string, message: string): Response {
  return Response.json({ code, message }, { status });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const match = url.pathname.match(/^\/desks\/([A-Za-z0-9_-]{1,64})\/(visitor|admin)$/);
    if (!match) return problem(404, "not_found", "no such route");
    if (request.method !== "GET") return problem(405, "method_not_allowed", "use GET");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return problem(426, "upgrade_required", "expected a WebSocket upgrade");
    }
    if (match[2] === "admin") {
      if (!env.ADMIN_TOKEN) return problem(503, "admin_disabled", "no ADMIN_TOKEN configured");
      if (request.headers.get("Authorization") !== `Bearer ${env.ADMIN_TOKEN}`) {
        return problem(401, "unauthorized", "admin credential required");
      }
    }
    const stub = env.DESK.get(env.DESK.idFromName(match[1]));
    return stub.fetch(request);
  },
} satisfies ExportedHandler<Env>;

export class Desk extends DurableObject<Env> {
  sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    console.log("desk object started (peer)");
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS visitors (
        id TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        unread INTEGER NOT NULL DEFAULT 0, last_message TEXT, last_sender TEXT, last_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS visitors_by_activity ON visitors(last_at DESC);
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, user_id TEXT NOT NULL,
        sender TEXT NOT NULL, body TEXT NOT NULL, client_msg_id TEXT, at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_by_user ON messages(user_id, seq);
      CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id
        ON messages(user_id, sender, client_msg_id) WHERE client_msg_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    // Keep-alives are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    if (url.pathname.endsWith("/admin")) {
      this.ctx.acceptWebSocket(server, ["admin"]);
      server.serializeAttachment({ role: "admin" } satisfies Attachment);
      const users = this.sql
        .exec("SELECT * FROM visitors WHERE last_at IS NOT NULL ORDER BY last_at DESC LIMIT 500")
        .toArray()
        .map((v) => this.row(v));
      const seq = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM messages").one().seq;
      server.send(JSON.stringify({ type: "users", users, epoch: this.epoch(), seq, resumed: false }));
    } else {
      const token = url.searchParams.get("token");
      let visitor = token ? this.sql.exec("SELECT * FROM visitors WHERE token = ?", token).toArray()[0] : undefined;
      if (token && !visitor) return problem(401, "unauthorized", "this desk did not issue that token");
      if (!visitor) {
        const id = crypto.randomUUID();
        const name = `Visitor ${id.replace(/-/g, "").slice(0, 6).toUpperCase()}`;
        const fresh = [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16).padStart(2, "0")).join("");
        this.sql.exec("INSERT INTO visitors (id, token, name) VALUES (?, ?, ?)", id, fresh, name);
        visitor = { id, token: fresh, name };
      }
      const userId = visitor.id as string;
      this.ctx.acceptWebSocket(server, [userId]);
      server.serializeAttachment({ role: "visitor", userId } satisfies Attachment);
      const latest = this.sql
        .exec("SELECT * FROM messages WHERE user_id = ? ORDER BY seq DESC LIMIT 201", userId)
        .toArray();
      const messages = latest.slice(0, 200).reverse().map((m) => this.wire(m));
      server.send(JSON.stringify({
        type: "welcome", userId, token: visitor.token, name: visitor.name, messages,
        hasMore: latest.length > 200, epoch: this.epoch(), resumed: false,
      }));
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer) {
    const me = ws.deserializeAttachment() as Attachment;
    let frame: any;
    try {
      frame = JSON.parse(typeof raw === "string" ? raw : "");
    } catch {
      return this.refuse(ws, "bad_json", "not JSON");
    }
    if (frame?.type === "ping") return ws.send('{"type":"pong"}');
    if (frame?.type !== "message") return this.refuse(ws, "unknown_type", "unknown frame type");
    const clientMsgId: string | undefined = typeof frame.clientMsgId === "string" ? frame.clientMsgId : undefined;
    const text = typeof frame.message === "string" ? frame.message : "";
    if (!text.trim()) return this.refuse(ws, "empty_message", "empty message", clientMsgId);
    if ([...text].length > MAX_MESSAGE_CHARS) return this.refuse(ws, "too_long", "message too long", clientMsgId);

    const sender = me.role === "admin" ? "admin" : "user";
    let userId: string;
    if (me.role === "admin") {
      if (typeof frame.targetUserId !== "string") return this.refuse(ws, "missing_target", "targetUserId required", clientMsgId);
      userId = frame.targetUserId;
    } else {
      if (frame.targetUserId !== undefined) return this.refuse(ws, "forbidden", "visitors cannot target", clientMsgId);
      userId = me.userId;
    }

    // A retry with the same clientMsgId is acked with the original and not stored again.
    if (clientMsgId) {
      const original = this.sql
        .exec("SELECT * FROM messages WHERE user_id = ? AND sender = ? AND client_msg_id = ?", userId, sender, clientMsgId)
        .toArray()[0];
      if (original) return ws.send(JSON.stringify(this.ack(original, me.role === "admin" ? userId : undefined)));
    }

    // The conversation row: unread + 1 for a visitor's message, last message for the sidebar.
    const at = Date.now();
    const visitor = this.sql
      .exec(
        `UPDATE visitors SET unread = unread + ?, last_message = ?, last_sender = ?, last_at = ?
         WHERE id = ? RETURNING *`,
        sender === "user" ? 1 : 0, text.slice(0, 140), sender, at, userId,
      )
      .toArray()[0];
    if (!visitor) return this.refuse(ws, "unknown_user", "no such visitor", clientMsgId);
    const stored = this.sql
      .exec(
        "INSERT INTO messages (id, user_id, sender, body, client_msg_id, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        crypto.randomUUID(), userId, sender, text, clientMsgId ?? null, at,
      )
      .one();

    ws.send(JSON.stringify(this.ack(stored, me.role === "admin" ? userId : undefined)));
    const forVisitor = JSON.stringify({ type: "message", ...this.wire(stored) });
    const forAdmins = JSON.stringify({ type: "message", userId, ...this.wire(stored) });
    const visitorSockets = this.ctx.getWebSockets(userId);
    for (const socket of visitorSockets) if (socket !== ws) socket.send(forVisitor);
    const row = JSON.stringify({ type: "user", user: this.row(visitor, visitorSockets.length > 0) });
    for (const admin of this.ctx.getWebSockets("admin")) {
      if (admin !== ws) admin.send(forAdmins);
      admin.send(row);
    }
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string) {
    ws.close(code, reason);
  }

  refuse(ws: WebSocket, code: string, message: string, clientMsgId?: string) {
    ws.send(JSON.stringify({ type: "error", code, message, ...(clientMsgId ? { clientMsgId } : {}) }));
  }

  epoch(): string {
    const found = this.sql.exec("SELECT value FROM meta WHERE key = 'epoch'").toArray()[0];
    if (found) return found.value as string;
    const epoch = crypto.randomUUID().replace(/-/g, "");
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('epoch', ?)", epoch);
    return epoch;
  }

  wire(m: Record<string, SqlStorageValue>) {
    return {
      id: m.id, seq: m.seq, sender: m.sender, message: m.body, at: m.at,
      ...(m.client_msg_id ? { clientMsgId: m.client_msg_id } : {}),
    };
  }

  ack(m: Record<string, SqlStorageValue>, userId?: string) {
    return { type: "ack", clientMsgId: m.client_msg_id ?? undefined, id: m.id, seq: m.seq, at: m.at, ...(userId ? { userId } : {}) };
  }

  row(v: Record<string, SqlStorageValue>, online = this.ctx.getWebSockets(v.id as string).length > 0) {
    return {
      userId: v.id, name: v.name, unread: v.unread, online,
      ...(v.last_at != null ? { lastMessage: v.last_message, lastSender: v.last_sender, lastAt: v.last_at } : {}),
    };
  }
}
