// The open conversation: its log (history, live messages, notes, events), the outbox of replies and notes (resent unchanged until acked), the Reply/Note composer with per-conversation drafts, "read" after a second of dwell, "Seen" under the latest reply the visitor has seen, and typing told to the desk.
import { drawMessage, renderConversation, appendMessage } from './render.js';
import { createDrafts } from './drafts.js';
import { MAX_MESSAGE_CHARS, createOutbox, newClientMsgId } from '../client/protocol.js';
import { attachmentOf } from '../client/upload.js';

const DWELL_MS = 1000; // opening a conversation and staying this long reads it; passing through does not
const fromWire = (m) => ({
  id: m.id, seq: m.seq, cid: m.clientMsgId, sender: m.sender, message: m.message, at: m.at,
  agentId: m.agentId, agentName: m.agentName, attachment: attachmentOf(m.attachment),
});

/**
 * ui: { log, older, input, inputLabel, send, attach, reply, sendError, modes }; desk: for the drafts;
 * hooks: { send(frame) -> bool, me() -> {agentId,name,role}|null, unread(userId) -> number|undefined,
 * seenSeq(userId) -> the visitor's seen mark, typed(userId): the agent typed a reply }.
 */
export function createConversation(ui, desk, { send, me, unread, seenSeq, typed }) {
  const drafts = createDrafts(desk);
  ui.input.maxLength = MAX_MESSAGE_CHARS;
  let selected = null, viewing = false, conv = [], loadingOlder = false;
  let dwellTimer = 0, dwelled = false, keptUnread = false, mode = 'reply', seenReply = null;

  /** "Seen" moves to the latest reply at or below the visitor's seen mark. */
  function showSeen() {
    const upTo = (selected && seenSeq(selected)) || 0;
    let latest = null;
    for (const m of conv) if (m.sender === 'admin' && m.seq <= upTo) latest = m;
    const before = seenReply;
    seenReply = latest;
    for (const m of [before, latest]) {
      if (!m || m.seen === (m === latest)) continue;
      m.seen = m === latest;
      if (m.el) drawMessage(m, me());
    }
  }

  const outFrame = (p) => p.sender === 'note'
    ? { type: 'note', userId: p.userId, message: p.message, clientMsgId: p.cid }
    : { type: 'message', message: p.message, targetUserId: p.userId, clientMsgId: p.cid };
  const outbox = createOutbox((p) => send(outFrame(p))); // own replies and notes not yet acked, by clientMsgId

  function setMode(m) {
    mode = m === 'note' ? 'note' : 'reply';
    for (const r of ui.modes) r.checked = r.value === mode;
    ui.reply.classList.toggle('noting', mode === 'note');
    ui.inputLabel.textContent = mode === 'note' ? 'Internal note' : 'Reply';
    ui.send.textContent = mode === 'note' ? 'Add note' : 'Send';
    if (selected) ui.input.placeholder = mode === 'note' ? 'Write a note only your team sees…' : 'Write a reply…';
  }
  for (const r of ui.modes) r.addEventListener('change', () => { if (r.checked) { setMode(r.value); ui.input.focus(); } });

  // ---- reading: after a second on screen, never while only passing through ----
  const visible = () => document.visibilityState === 'visible';
  function markRead(always) {
    if (!selected || !viewing || !visible() || keptUnread) return;
    const n = unread(selected);
    if (always || n === undefined || n > 0) send({ type: 'read', userId: selected });
  }
  function dwell() {
    clearTimeout(dwellTimer);
    dwelled = false;
    if (!selected || !viewing || !visible()) return;
    dwellTimer = setTimeout(() => { dwelled = true; markRead(); }, DWELL_MS);
  }
  document.addEventListener('visibilitychange', dwell);

  /** An own reply or note the desk stored (its ack, or the stored message replayed): out of the outbox. */
  function settle(p, f) {
    outbox.settle(p.cid);
    Object.assign(p, { id: f.id, seq: f.seq, at: f.at, agentId: f.agentId ?? p.agentId, agentName: f.agentName ?? p.agentName });
    if (p.el) drawMessage(p, me());
  }

  function showHistory(f) {
    const got = (f.messages || []).filter((m) => m && m.message != null).map(fromWire);
    if (loadingOlder) {
      loadingOlder = false;
      const known = new Set(conv.map((m) => m.id));
      const before = ui.log.scrollHeight - ui.log.scrollTop;
      conv = [...got.filter((m) => !known.has(m.id)), ...conv];
      renderConversation(ui.log, conv, false, me());
      ui.log.scrollTop = ui.log.scrollHeight - before;
    } else {
      for (const m of got) {
        const p = m.cid && (m.sender === 'admin' || m.sender === 'note') && outbox.get(m.cid);
        if (p && p.userId === selected && p.sender === m.sender) settle(p, m);
      }
      const mine = outbox.entries().filter((p) => p.userId === selected);
      conv = [...got, ...mine];
      seenReply = null;
      renderConversation(ui.log, conv, true, me());
    }
    showSeen();
    ui.older.hidden = !f.hasMore;
  }

  ui.older.addEventListener('click', () => {
    const first = conv.find((m) => m.seq !== undefined);
    if (!selected || !first) return;
    loadingOlder = true;
    send({ type: 'history', userId: selected, before: first.seq, limit: 100 });
  });

  // ---- composing: always to the selected conversation ----
  ui.reply.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.input.value;
    if (!selected || !text.trim()) return;
    const who = me();
    const p = {
      cid: newClientMsgId(), userId: selected, sender: mode === 'note' ? 'note' : 'admin', message: text, at: Date.now(), st: 'sending',
      agentId: who?.agentId, agentName: who?.name,
    };
    conv.push(p);
    appendMessage(ui.log, p, who);
    ui.input.value = '';
    drafts.save(selected, '', mode);
    ui.sendError.hidden = true;
    outbox.add(p);
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing) {
      e.preventDefault();
      ui.reply.requestSubmit();
    }
  });
  ui.input.addEventListener('input', () => {
    drafts.save(selected, ui.input.value, mode);
    if (selected && mode === 'reply' && ui.input.value.trim()) typed(selected); // never for an internal note
  });

  return {
    get selected() { return selected; },
    get viewing() { return viewing; },
    /** Opens `userId` (its draft comes back; the one left is kept); `viewing`: it is on screen. */
    select(userId) {
      if (userId !== selected) {
        if (selected) drafts.save(selected, ui.input.value, mode);
        selected = userId;
        conv = [];
        loadingOlder = false;
        keptUnread = false;
        ui.older.hidden = true;
        renderConversation(ui.log, conv, true, me());
        send({ type: 'history', userId });
        const d = drafts.take(userId);
        ui.input.value = d.text;
        setMode(d.mode);
      }
      viewing = true;
      ui.input.disabled = ui.send.disabled = ui.attach.disabled = false;
      setMode(mode);
      ui.sendError.hidden = true;
      dwell();
    },
    /** The list is on screen instead (narrow layout): nothing gets read. */
    leave() { viewing = false; clearTimeout(dwellTimer); },
    /** "Mark unread": this conversation stays unread until it is opened again. */
    keepUnread() { keptUnread = true; clearTimeout(dwellTimer); },
    /** Forgets everything, drafts too (signed out). */
    clear() {
      drafts.forget();
      clearTimeout(dwellTimer);
      outbox.clear();
      selected = null;
      viewing = false;
      conv = [];
      renderConversation(ui.log, conv, false, null);
      ui.input.value = '';
      ui.input.disabled = ui.send.disabled = ui.attach.disabled = true;
      ui.input.placeholder = 'Select a conversation to reply';
    },
    /** The open conversation was deleted: nothing is shown any more (other drafts stay). */
    drop() {
      clearTimeout(dwellTimer);
      selected = null;
      viewing = false;
      conv = [];
      renderConversation(ui.log, conv, false, null);
      ui.input.value = '';
      ui.input.disabled = ui.send.disabled = ui.attach.disabled = true;
      ui.input.placeholder = 'Select a conversation to reply';
    },
    /** A new socket: reload what is open unless resumed, then the outbox goes out again (same clientMsgId). */
    connected(resumed) {
      loadingOlder = false; // an "earlier messages" request the old socket did not answer is lost
      if (selected && !resumed) send({ type: 'history', userId: selected });
      if (selected && dwelled) markRead();
      outbox.resend();
    },
    /** A `message` frame (a visitor, a colleague, a note, an event). Returns true when it was shown. */
    onMessage(f) {
      const own = (f.sender === 'admin' || f.sender === 'note') && f.clientMsgId && outbox.get(f.clientMsgId);
      if (own && own.userId === f.userId && own.sender === f.sender) { settle(own, f); return true; }
      if (f.userId !== selected || f.message == null) return false;
      if (conv.some((m) => (f.id && m.id === f.id) || (f.clientMsgId && m.cid === f.clientMsgId && m.sender === f.sender))) return true;
      const m = fromWire(f);
      conv.push(m);
      appendMessage(ui.log, m, me());
      if (f.sender === 'user' && dwelled) markRead(true); // its row (unread + 1) may come after it
      return true;
    },
    /** An `ack`: returns the reply or note it settled, if it was this page's. */
    onAck(f) {
      const p = outbox.get(f.clientMsgId);
      if (p) settle(p, f);
      return p;
    },
    onHistory(f) { if (f.userId === selected) showHistory(f); },
    /** The visitor's seen mark moved (a `seen` frame, its row updated first). */
    onSeen(f) { if (f.userId === selected) showSeen(); },
    /** An `error` frame: true when it concerned a reply or note of the outbox. */
    onError(f) {
      const p = f.clientMsgId && outbox.get(f.clientMsgId);
      if (!p) return false;
      // too fast for the desk's limit: still in the outbox, sent again when the desk says
      if (outbox.refuse(f) === 'later') return true;
      if (p.el) drawMessage(p, me());
      return false;
    },
  };
}
