// The admin inbox: sign-in, the sidebar and the open conversation as state, replies routed by targetUserId, keyboard, notifications.
import { connectAdmin } from './socket.js';
import { sortRows, renderUsers, refreshTimes, drawMessage, renderConversation, appendMessage } from './render.js';
import { setupNotify } from './notify.js';

const desk = new URLSearchParams(location.search).get('desk') || 'demo';
const TOKEN_KEY = 'inbox.token:' + desk; // sessionStorage: this tab's session only
const $ = (id) => document.getElementById(id);
const ui = {
  login: $('login'), loginForm: $('login-form'), loginError: $('login-error'), token: $('token'),
  inbox: $('inbox'), conn: $('conn'), users: $('users'), noUsers: $('no-users'), back: $('back'),
  title: $('conv-title'), status: $('conv-status'), older: $('older'), log: $('log'),
  reply: $('reply'), input: $('input'), send: $('send'), sendError: $('send-error'), notify: $('notify'),
  signout: $('signout'),
};
const store = (area, key, value) => {
  try {
    const s = area === 'local' ? localStorage : sessionStorage;
    if (value === undefined) return s.getItem(key);
    if (value === null) s.removeItem(key); else s.setItem(key, value);
  } catch { /* storage unavailable: the inbox still works for this page */ }
  return null;
};
const uuid = () => {
  try { return crypto.randomUUID(); } catch { return 'a-' + Date.now().toString(36) + Math.random().toString(36).slice(2); }
};

let conn = null, token = null, signedIn = false;
const rows = new Map(); // userId -> sidebar row, as the desk sent it
let order = []; // rows, newest activity first
let selected = null; // the userId every reply goes to
let viewing = false; // the selected conversation is on screen (narrow layouts can show the list instead)
let conv = []; // messages of the selected conversation, oldest first
let loadingOlder = false;
const pending = new Map(); // clientMsgId -> reply not yet acked (resent unchanged after a reconnect)

// ---- connection ----
function connect(t) {
  conn?.stop();
  token = t;
  conn = connectAdmin(desk, t, { onFrame, onState, onRefused });
}
function onState(state) {
  const text = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', refused: 'Signed out', 'signed-out': 'Signed out' };
  ui.conn.textContent = text[state] || state;
  ui.conn.dataset.state = state;
}
function onRefused() {
  store('session', TOKEN_KEY, null);
  showLogin(signedIn
    ? 'The desk no longer accepts this token. Enter the current admin token.'
    : 'The desk refused this token. Check it and try again (or admin access is disabled on this desk).');
}
function showLogin(error) {
  // nothing of a previous session stays on screen
  rows.clear();
  pending.clear();
  selected = null;
  viewing = false;
  conv = [];
  renderConversation(ui.log, conv, false);
  renderSidebar();
  ui.input.disabled = ui.send.disabled = true;
  document.body.classList.remove('show-conv');
  ui.inbox.hidden = ui.signout.hidden = true;
  ui.login.hidden = false;
  ui.loginError.hidden = !error;
  ui.loginError.textContent = error || '';
  ui.token.value = '';
  ui.token.focus();
}
ui.loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const t = ui.token.value.trim();
  if (!t) return;
  ui.loginError.hidden = true;
  onState('connecting');
  connect(t);
});

ui.signout.addEventListener('click', () => {
  conn?.stop();
  conn = null;
  signedIn = false;
  store('session', TOKEN_KEY, null);
  onState('signed-out');
  showLogin('');
});

const send = (frame) => conn?.send(frame) ?? false;
function markRead() {
  if (selected && viewing && document.visibilityState === 'visible') send({ type: 'read', userId: selected });
}

/** An own reply the desk stored (its ack, or the stored message replayed or reloaded): "sent", out of the outbox. */
function settle(p, f) {
  pending.delete(p.cid);
  Object.assign(p, { id: f.id, seq: f.seq, at: f.at, st: 'sent' });
  if (p.el) drawMessage(p);
}

// ---- frames from the desk ----
function onFrame(f) {
  switch (f.type) {
    case 'users': {
      signedIn = true;
      store('session', TOKEN_KEY, token);
      ui.login.hidden = true;
      ui.inbox.hidden = ui.signout.hidden = false;
      rows.clear();
      for (const row of f.users || []) if (row?.userId) rows.set(row.userId, row);
      renderSidebar();
      // Resumed: the open conversation stays, the messages it missed follow as `message` frames.
      // A fresh snapshot instead (first sign-in, or the desk could not resume): reload what is open.
      loadingOlder = false; // an "earlier messages" request the old socket did not answer is lost
      if (selected && f.resumed !== true) send({ type: 'history', userId: selected });
      if (selected) markRead();
      // the outbox goes out again, same clientMsgId: the desk stores each reply once
      for (const p of pending.values()) {
        if (p.st === 'sending') send({ type: 'message', message: p.message, targetUserId: p.userId, clientMsgId: p.cid });
      }
      break;
    }
    case 'user':
      if (f.user?.userId) {
        rows.set(f.user.userId, f.user);
        renderSidebar();
      }
      break;
    case 'message': {
      const own = f.sender === 'admin' && f.clientMsgId && pending.get(f.clientMsgId);
      if (own && own.userId === f.userId) {
        settle(own, f);
        break;
      }
      if (f.userId === selected && !conv.some((m) => (f.id && m.id === f.id) || (f.clientMsgId && m.cid === f.clientMsgId && m.sender === f.sender))) {
        const m = { id: f.id, seq: f.seq, cid: f.clientMsgId, sender: f.sender, message: f.message, at: f.at };
        conv.push(m);
        appendMessage(ui.log, m);
        if (f.sender === 'user') markRead();
      }
      if (f.sender === 'user') notify(f, rows.get(f.userId)?.name, f.userId === selected && viewing);
      break;
    }
    case 'ack': {
      const p = pending.get(f.clientMsgId);
      if (p) settle(p, f);
      break;
    }
    case 'history':
      if (f.userId === selected) showHistory(f);
      break;
    case 'error': {
      const p = f.clientMsgId && pending.get(f.clientMsgId);
      if (p && f.code === 'rate_limited') {
        // too fast for the desk's limit: still in the outbox, sent again when the desk says
        setTimeout(() => {
          if (p.st === 'sending') send({ type: 'message', message: p.message, targetUserId: p.userId, clientMsgId: p.cid });
        }, Number(f.retryAfterMs) || 1000);
        break;
      }
      if (p) {
        pending.delete(f.clientMsgId);
        p.st = 'failed';
        if (p.el) drawMessage(p);
      }
      ui.sendError.textContent = 'The desk refused that: ' + (f.message || f.code || 'error');
      ui.sendError.hidden = false;
      break;
    }
  }
}

function showHistory(f) {
  const got = (f.messages || []).map((m) => ({ id: m.id, seq: m.seq, cid: m.clientMsgId, sender: m.sender, message: m.message, at: m.at }));
  if (loadingOlder) {
    loadingOlder = false;
    const known = new Set(conv.map((m) => m.id));
    const before = ui.log.scrollHeight - ui.log.scrollTop;
    conv = [...got.filter((m) => !known.has(m.id)), ...conv];
    renderConversation(ui.log, conv, false);
    ui.log.scrollTop = ui.log.scrollHeight - before;
  } else {
    const stored = new Set(got.filter((m) => m.sender === 'admin' && m.cid).map((m) => m.cid));
    for (const m of got) if (stored.has(m.cid) && pending.get(m.cid)?.userId === selected) settle(pending.get(m.cid), m);
    const mine = [...pending.values()].filter((p) => p.userId === selected);
    conv = [...got, ...mine];
    renderConversation(ui.log, conv, true);
  }
  ui.older.hidden = !f.hasMore;
}

// ---- sidebar and selection ----
function renderSidebar() {
  order = sortRows(rows.values());
  renderUsers(ui.users, order, selected, (id) => select(id, true));
  ui.noUsers.hidden = order.length > 0;
  const total = order.reduce((n, r) => n + (r.unread > 0 ? r.unread : 0), 0);
  document.title = total ? `(${total}) Inbox` : 'Inbox';
  renderHeader();
}
function renderHeader() {
  const row = selected && rows.get(selected);
  ui.title.textContent = row ? row.name || 'Visitor' : 'Select a conversation';
  ui.status.textContent = row ? (row.online ? 'online' : 'offline') : '';
  ui.status.dataset.online = row?.online ? 'yes' : 'no';
}
function select(userId, focusInput) {
  if (!rows.has(userId)) return;
  if (userId !== selected) {
    selected = userId;
    conv = [];
    loadingOlder = false;
    ui.older.hidden = true;
    renderConversation(ui.log, conv, true);
    send({ type: 'history', userId });
  }
  viewing = true;
  document.body.classList.add('show-conv');
  ui.input.disabled = ui.send.disabled = false;
  ui.input.placeholder = 'Write a reply…';
  ui.sendError.hidden = true;
  markRead();
  renderSidebar();
  if (focusInput) ui.input.focus();
}
function move(delta, focusRow) {
  if (!order.length) return;
  const i = order.findIndex((r) => r.userId === selected);
  const next = order[i < 0 ? 0 : Math.max(0, Math.min(order.length - 1, i + delta))];
  select(next.userId, false);
  if (focusRow) ui.users.querySelector(`[data-user="${CSS.escape(next.userId)}"]`)?.focus();
}
ui.back.addEventListener('click', () => {
  viewing = false;
  document.body.classList.remove('show-conv');
  ui.users.querySelector('[aria-current="true"]')?.focus();
});
ui.older.addEventListener('click', () => {
  const first = conv.find((m) => m.seq !== undefined);
  if (!selected || !first) return;
  loadingOlder = true;
  send({ type: 'history', userId: selected, before: first.seq, limit: 100 });
});

// ---- replying: always to the selected visitor ----
ui.reply.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.input.value;
  if (!selected || !text.trim()) return;
  const m = { cid: uuid(), userId: selected, sender: 'admin', message: text, at: Date.now(), st: 'sending' };
  pending.set(m.cid, m);
  conv.push(m);
  appendMessage(ui.log, m);
  ui.input.value = '';
  ui.sendError.hidden = true;
  send({ type: 'message', message: text, targetUserId: selected, clientMsgId: m.cid });
});
ui.input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing) {
    e.preventDefault();
    ui.reply.requestSubmit();
  }
});

// ---- keyboard: Alt+↑/↓ anywhere, j/k outside text fields ----
document.addEventListener('keydown', (e) => {
  if (ui.inbox.hidden) return;
  if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
    e.preventDefault();
    move(e.key === 'ArrowUp' ? -1 : 1, document.activeElement !== ui.input);
    return;
  }
  const typing = e.target.closest?.('input, textarea, select, [contenteditable]');
  if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && (e.key === 'j' || e.key === 'k')) {
    e.preventDefault();
    move(e.key === 'k' ? -1 : 1, true);
  }
});
document.addEventListener('visibilitychange', () => { if (rows.get(selected)?.unread > 0) markRead(); });

// ---- start ----
const notify = setupNotify(ui.notify, (key, value) => store('local', key, value));
$('desk').textContent = '· ' + desk;
setInterval(() => refreshTimes(ui.users), 30000);
const saved = store('session', TOKEN_KEY);
if (saved) { onState('connecting'); connect(saved); } else showLogin('');
