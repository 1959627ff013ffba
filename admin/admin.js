// The team inbox: sign-in shared by every tab of a desk, frames from the desk dispatched to the sidebar views, the open conversation, its header and the Team page; keyboard and notifications.
import { connectAdmin } from './socket.js';
import { refreshTimes, useAttachmentUrls } from './render.js';
import { setupAttach } from './attach.js';
import { createAttachmentUrls } from '../client/upload.js';
import { setupNotify } from './notify.js';
import { setupPush } from './push.js';
import { session, local, inviteCode } from './session.js';
import { createViews } from './views.js';
import { createConversation } from './conversation.js';
import { createActions } from './actions.js';
import { createTeam, setupJoin } from './team.js';
import { createSettings } from './settings.js';
import { createEmailAlerts } from './email-alerts.js';
import { createWebhooks } from './webhooks.js';
import { setupPresence } from './presence.js';
import { emailFrame } from '../client/protocol.js';
import { createRowBatch } from './batch.js';
import { createContextPanel } from './context-panel.js';
import { createSavedReplies } from './saved-replies.js';
import { setupShortcuts } from './shortcuts.js';
import { createTyping } from './typing.js';

const desk = new URLSearchParams(location.search).get('desk') || 'demo';
const ACCESS = 'cf-access'; // kept instead of a token when Cloudflare Access signed this browser in
const $ = (id) => document.getElementById(id);
const ui = {
  login: $('login'), loginForm: $('login-form'), loginError: $('login-error'), token: $('token'),
  inbox: $('inbox'), conn: $('conn'), me: $('me'), signout: $('signout'), teamOpen: $('team-open'),
  settings: $('settings'), settingsOpen: $('settings-open'), myStatus: $('my-status'), convEmail: $('conv-email'),
  team: $('team'), back: $('back'), input: $('input'), notify: $('notify'), sendError: $('send-error'), storage: $('storage'),
  repliesPage: $('replies-page'), repliesOpen: $('replies-open'),
};

let conn = null, token = null, signedIn = false, me = null;
const known = new Map(); // userId -> the latest row seen (users, list, search, user frames)
const authors = new Map(); // userId -> { seq, agentId, agentName } of the latest reply this page saw
function sawReply(userId, m) {
  if (!userId || !Number.isSafeInteger(m.seq) || (authors.get(userId)?.seq ?? -1) > m.seq) return;
  authors.set(userId, { seq: m.seq, agentId: m.agentId, agentName: m.agentName });
}

// ---- parts ----
const send = (frame) => conn?.send(frame) ?? false;
const views = createViews(
  { tabs: $('tabs'), nav: document.querySelector('nav.list'), list: $('users'), results: $('results'), more: $('more'), empty: $('no-users'), search: $('search') },
  { send, ctx: () => ({ selected: conv.selected, me, author: (id) => authors.get(id) }), onPick: (id) => select(id, true) },
);
const conv = createConversation(
  { log: $('log'), older: $('older'), input: ui.input, inputLabel: $('input-label'), send: $('send'), attach: $('attach'), reply: $('reply'), sendError: ui.sendError, modes: [...document.querySelectorAll('input[name="mode"]')] },
  desk,
  { send, me: () => me, unread: (id) => known.get(id)?.unread, seenSeq: (id) => known.get(id)?.seenSeq, typed: (id) => typing.typed(id) },
);
// Files: signed URLs asked of the desk once each; uploads to the open conversation.
const urls = createAttachmentUrls((id) => send({ type: 'attachment_url', id }));
useAttachmentUrls(urls);
setupAttach(
  { button: $('attach'), picker: $('picker'), input: ui.input, drop: $('log'), error: ui.sendError },
  { desk, selected: () => conv.selected, token: () => (token === ACCESS ? null : token), urls },
);
const typing = createTyping($('typing'), { send, me: () => me, selected: () => conv.selected, name: (id) => known.get(id)?.name });
const actions = createActions(
  { title: $('conv-title'), status: $('conv-status'), state: $('conv-state'), actions: $('actions'), resolve: $('resolve'), snooze: $('snooze'), assign: $('assign'), markUnread: $('mark-unread'), block: $('block'), del: $('delete') },
  // on a phone the list comes back, as after handling a conversation
  { send, onMarkUnread: () => { conv.keepUnread(); if (matchMedia('(max-width: 719px)').matches) ui.back.click(); }, confirm: (q) => window.confirm(q) },
);
// Live rows are painted once per animation frame (a flood sends hundreds a second). `known` is
// always current and the batch paints what it holds then, so a `list` or `users` frame that came
// in between is never painted over by an older row. Moving the selection flushes it first.
const rows = createRowBatch((batch) => {
  let header = false;
  for (const { row: { userId }, before } of batch) {
    const row = known.get(userId);
    if (!row) continue;
    views.onUser(row, before);
    if (userId === conv.selected) header = true;
  }
  if (header) showHeader();
  updateTitle();
});
const team = createTeam(
  { error: $('team-error'), inviteForm: $('invite-form'), result: $('invite-result'), agents: $('agents'), profileForm: $('profile-form'), myName: $('my-name'),
    profileDone: $('profile-done'), refresh: $('agents-refresh'), inviteName: $('invite-name'), inviteRole: $('invite-role'), inviteEmail: $('invite-email'), copy: $('invite-copy'), link: $('invite-link'), expiry: $('invite-expiry') },
  desk, { send },
);
const panel = createContextPanel(
  { panel: $('context'), empty: $('context-empty'), facts: $('context-facts'), pages: $('context-pages'), pagesTitle: $('context-pages-title') },
  { send },
);
const saved = createSavedReplies(
  { list: $('replies-list'), none: $('replies-none'), form: $('reply-form'), formTitle: $('reply-form-title'), title: $('reply-title'),
    shortcut: $('reply-shortcut'), text: $('reply-text'), save: $('reply-save'), cancel: $('reply-cancel'), error: $('replies-error') },
  { send, confirm: (q) => window.confirm(q) },
);
setupShortcuts({ input: ui.input, form: $('reply'), list: $('reply-suggestions'), status: $('suggest-status') }, { replies: () => saved.replies });
const settings = createSettings(
  { form: $('settings-form'), zone: $('set-zone'), hours: $('set-hours'), holidays: $('set-holidays'), reply: $('set-reply'), away: $('set-away'), unanswered: $('set-unanswered'),
    done: $('settings-done'), error: $('settings-error'), readonly: $('settings-readonly') },
  { send },
);
const alerts = createEmailAlerts(
  { form: $('alerts-form'), off: $('alerts-off'), unanswered: $('alerts-unanswered'), email: $('alerts-email'), done: $('alerts-done'), error: $('alerts-error') },
  { send },
);
const webhooks = createWebhooks(
  { section: $('webhooks'), list: $('webhooks-list'), none: $('webhooks-none'), form: $('webhook-form'), url: $('webhook-url'),
    events: $('webhook-events'), format: $('webhook-format'), error: $('webhooks-error'), log: $('webhook-log'), refresh: $('webhook-refresh') },
  { send, confirm: (q) => window.confirm(q) },
);
const presence = setupPresence(ui.myStatus, desk, { send });
const join = setupJoin(
  { section: $('join'), form: $('join-form'), name: $('join-name'), error: $('join-error'), submit: $('join-submit') },
  desk, { onJoined: (agent) => { signIn.save(agent.token); start(agent.token); } },
);
const signIn = session(desk, (t) => {
  // another tab signed out, or in (perhaps as someone else, e.g. by accepting an invite): follow it
  if (!t) {
    if (conn || signedIn) signOut('You signed out in another tab.', false);
  } else if (t !== token || !conn) {
    if (conn || signedIn) signOut('', false);
    start(t);
  }
});

// ---- signing in and out ----
function onState(state) {
  const text = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', refused: 'Signed out', 'signed-out': 'Signed out' };
  ui.conn.textContent = text[state] || state;
  ui.conn.dataset.state = state;
}
function start(t) {
  conn?.stop();
  token = t;
  $('login').hidden = true;
  onState('connecting');
  conn = connectAdmin(desk, token === ACCESS ? null : token, {
    onFrame, onState,
    onRefused: () => signOut(token === ACCESS
      ? 'Cloudflare Access did not sign you in to this desk: it is not behind Access, your Access session ended, or no invite names your email.'
      : signedIn
        ? 'The desk no longer accepts this token. Sign in again.'
        : 'The desk refused this token. Check it and try again (or admin access is disabled on this desk).', true),
    onRevoked: () => signOut('Your access to this desk was revoked.', true),
  });
}
/** Back to the sign-in form; `forget`: the stored token goes too (every other tab of the desk follows). */
function signOut(message, forget) {
  conn?.stop();
  conn = null;
  signedIn = false;
  me = null;
  if (forget && signIn.token() === token) signIn.clear(); // a mistyped token never clears a good one
  onState('signed-out');
  rows.clear();
  known.clear();
  conv.clear();
  panel.clear();
  typing.paint();
  views.reset();
  actions.show(null);
  document.body.classList.remove('show-conv');
  ui.inbox.hidden = ui.signout.hidden = ui.teamOpen.hidden = ui.repliesOpen.hidden = ui.me.hidden = true;
  ui.team.hidden = ui.repliesPage.hidden = ui.settings.hidden = ui.settingsOpen.hidden = ui.myStatus.hidden = true;
  ui.storage.hidden = true;
  team.close();
  document.title = 'Inbox';
  ui.login.hidden = false;
  ui.loginError.hidden = !message;
  ui.loginError.textContent = message || '';
  ui.token.value = '';
  ui.token.focus();
}
$('access-signin').addEventListener('click', () => { ui.loginError.hidden = true; start(ACCESS); });
ui.loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const t = ui.token.value.trim();
  if (!t) return;
  ui.loginError.hidden = true;
  start(t);
});
ui.signout.addEventListener('click', () => signOut('', true));

function setMe(m) {
  if (!m || typeof m !== 'object') return;
  me = m;
  ui.me.textContent = (m.name || 'Agent') + ' · ' + (m.role || 'agent');
  ui.me.hidden = false;
  team.setMe(m);
  saved.setMe(m);
  settings.setMe(m);
  webhooks.setMe(m);
  presence.onMe(m);
  const moderator = m.role === 'owner' || m.role === 'admin';
  views.setModerator(moderator);
  actions.setModerator(moderator);
}

// ---- frames from the desk ----
function onFrame(f) {
  switch (f.type) {
    case 'users': {
      signIn.save(token); // kept once the desk accepted it: every new tab of this desk is signed in
      signedIn = true;
      ui.login.hidden = true;
      ui.signout.hidden = ui.teamOpen.hidden = ui.repliesOpen.hidden = ui.settingsOpen.hidden = false;
      ui.inbox.hidden = !ui.team.hidden || !ui.repliesPage.hidden || !ui.settings.hidden;
      setMe(f.me || me || { agentId: 'owner', name: 'Owner', role: 'owner' });
      for (const row of f.users || []) if (row?.userId) known.set(row.userId, row);
      views.connected();
      conv.connected(f.resumed === true);
      urls.retry();
      send({ type: 'agents' });
      saved.connected();
      push.connected();
      openFromUrl();
      if (conv.selected) panel.show(conv.selected, known.get(conv.selected));
      updateTitle();
      showHeader();
      break;
    }
    case 'user': {
      if (!f.user?.userId) break;
      const before = known.get(f.user.userId);
      // rows sent for a message leave the visitor's context out: the last one known stays
      if (!f.user.context && before?.context) f.user.context = before.context;
      known.set(f.user.userId, f.user);
      rows.add(f.user, before);
      panel.onRow(f.user);
      break;
    }
    case 'list':
      for (const row of f.users || []) if (row?.userId) known.set(row.userId, row);
      views.onList(f);
      panel.onRow(known.get(conv.selected));
      break;
    case 'context': {
      const row = typeof f.userId === 'string' && known.get(f.userId);
      if (row) row.context = f;
      panel.onContext(f);
      break;
    }
    case 'replies': saved.onReplies(f); break;
    case 'search':
      for (const r of f.results || []) if (r?.user?.userId && !known.has(r.user.userId)) known.set(r.user.userId, r.user);
      views.onSearch(f);
      break;
    case 'message':
      typing.onMessage(f);
      if (f.sender === 'admin') sawReply(f.userId, f);
      conv.onMessage(f);
      if (f.sender === 'user') notify(f, known.get(f.userId)?.name, f.userId === conv.selected && conv.viewing);
      break;
    case 'ack': {
      const own = conv.onAck(f);
      if (own?.sender === 'admin' && me) sawReply(own.userId, { seq: f.seq, agentId: me.agentId, agentName: me.name });
      break;
    }
    case 'history':
      for (const m of f.messages || []) if (m?.sender === 'admin') sawReply(f.userId, m);
      views.repaint(f.userId);
      conv.onHistory(f);
      break;
    case 'typing': typing.onTyping(f); break;
    case 'seen': {
      const row = known.get(f.userId);
      if (!row || !Number.isSafeInteger(f.seq)) break;
      row.seenSeq = Math.max(row.seenSeq || 0, f.seq);
      conv.onSeen(f);
      break;
    }
    case 'agents':
      actions.setAgents(f.agents);
      team.onAgents(f.agents);
      break;
    case 'removed': {
      if (typeof f.userId !== 'string') break;
      known.delete(f.userId);
      authors.delete(f.userId);
      views.onRemoved(f.userId);
      if (conv.selected === f.userId) {
        conv.drop();
        panel.clear();
        typing.paint();
        actions.show(null);
        document.body.classList.remove('show-conv');
      }
      updateTitle();
      break;
    }
    case 'storage':
      ui.storage.hidden = !f.full;
      ui.storage.textContent = f.full
        ? `This desk is full (${(f.usedBytes / 1048576).toFixed(1)} of ${(f.budgetBytes / 1048576).toFixed(1)} MB): new visitor messages are refused. Delete old conversations or raise STORAGE_BUDGET_MB.`
        : '';
      break;
    case 'attachment_url': urls.put(f); break;
    case 'invited': team.onInvited(f); break;
    case 'settings': settings.onSettings(f); break;
    case 'email_alerts': alerts.onAlerts(f); break;
    case 'webhooks': webhooks.onWebhooks(f); break;
    case 'status': presence.onStatus(f, me); send({ type: 'agents' }); break; // the Team page's list shows it
    case 'email_saved': break;
    case 'push': push.onPush(f); break;
    case 'profile': setMe(f.me); team.onProfile(f); send({ type: 'agents' }); break; // the Assignee list shows the new name
    case 'error':
      if (conv.onError(f) || settings.onError(f) || alerts.onError(f) || webhooks.onError(f) || team.onError(f) || saved.onError(f) || push.onError(f)) break;
      ui.sendError.textContent = 'The desk refused that: ' + (f.message || f.code || 'error');
      ui.sendError.hidden = false;
      break;
  }
}

function updateTitle() {
  let total = 0;
  for (const r of known.values()) if (r.unread > 0) total += r.unread;
  document.title = total ? `(${total}) Inbox` : 'Inbox';
}
function showHeader() {
  const row = conv.selected ? known.get(conv.selected) ?? null : null;
  actions.show(row);
  // the email the visitor left (or an agent wrote in): shown, and edited with `email`
  ui.convEmail.hidden = !row;
  ui.convEmail.textContent = row?.email ? `Email: ${row.email}` : 'Add email';
  ui.convEmail.title = row?.email ? 'Edit the visitor\'s email' : 'Add the visitor\'s email';
}
ui.convEmail.addEventListener('click', () => {
  const row = known.get(conv.selected);
  if (!row) return;
  // eslint-disable-next-line no-alert
  const email = prompt('The visitor\'s email (empty removes it)', row.email || '');
  if (email !== null) send(emailFrame(email.trim() || null, row.userId));
});

// The desk announces no joins: the team is asked again (at most every 5 s) when a conversation opens
// or the Assignee list is about to be used, so a colleague who just joined can be picked.
let agentsAsked = 0;
function refreshAgents() {
  if (Date.now() - agentsAsked < 5000) return;
  if (send({ type: 'agents' })) agentsAsked = Date.now();
}
for (const ev of ['focus', 'pointerdown']) $('assign').addEventListener(ev, refreshAgents);

// ---- selection ----
function select(userId, focusInput) {
  if (!userId || !known.has(userId)) return;
  rows.flush(); // the sidebar as it is now, before the selection moves in it
  const before = conv.selected;
  if (userId !== before) refreshAgents();
  conv.select(userId);
  panel.show(userId, known.get(userId));
  typing.paint();
  document.body.classList.add('show-conv');
  views.repaint(before, userId);
  showHeader();
  if (focusInput) ui.input.focus();
}
function move(delta, focusRow) {
  rows.flush(); // the neighbour in the order the desk has announced, not a frame behind
  const next = views.neighbor(conv.selected, delta);
  if (!next) return;
  select(next, false);
  if (focusRow) views.rowEl(next)?.focus();
}
ui.back.addEventListener('click', () => {
  conv.leave();
  document.body.classList.remove('show-conv');
  if (conv.selected) views.rowEl(conv.selected)?.focus();
});

// ---- the Team and Settings pages ----
function showTeam(on) {
  if (on && !ui.repliesPage.hidden) showReplies(false);
  if (on) showSettings(false);
  ui.team.hidden = !on;
  ui.inbox.hidden = on;
  ui.teamOpen.setAttribute('aria-pressed', String(on));
  if (on) { conv.leave(); team.open(); $('my-name').focus(); return; }
  team.close();
  if (conv.selected) conv.select(conv.selected);
}
ui.teamOpen.addEventListener('click', () => showTeam(ui.team.hidden));
$('team-close').addEventListener('click', () => showTeam(false));
function showSettings(on) {
  if (on && !ui.team.hidden) showTeam(false);
  if (on && !ui.repliesPage.hidden) showReplies(false);
  if (on === !ui.settings.hidden) return;
  ui.settings.hidden = !on;
  ui.inbox.hidden = on;
  ui.settingsOpen.setAttribute('aria-pressed', String(on));
  if (on) { conv.leave(); settings.open(); alerts.open(); webhooks.open(); $('set-zone').focus(); return; }
  if (conv.selected) conv.select(conv.selected);
}
ui.settingsOpen.addEventListener('click', () => showSettings(ui.settings.hidden));
$('settings-close').addEventListener('click', () => showSettings(false));

// ---- the Saved replies page ----
function showReplies(on) {
  if (on && !ui.team.hidden) showTeam(false);
  if (on) showSettings(false);
  ui.repliesPage.hidden = !on;
  ui.inbox.hidden = on;
  ui.repliesOpen.setAttribute('aria-pressed', String(on));
  if (on) { conv.leave(); $('replies-title').focus(); return; }
  if (conv.selected) conv.select(conv.selected);
}
ui.repliesOpen.addEventListener('click', () => showReplies(ui.repliesPage.hidden));
$('replies-close').addEventListener('click', () => showReplies(false));

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

// ---- start ----
const notify = setupNotify(ui.notify, (key, value) => local(key, value));
const push = setupPush({ box: ui.notify, state: $('push-state'), send, open: (userId) => select(userId, false) });
/** `?open=<userId>` (a push notification's link): that conversation, once, when the rows are in. */
function openFromUrl() {
  const params = new URLSearchParams(location.search);
  const userId = params.get('open');
  if (!userId) return;
  params.delete('open');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  select(userId, false);
}
$('desk').textContent = '· ' + desk;
setInterval(() => { refreshTimes($('users')); refreshTimes($('results')); }, 30000);
const code = inviteCode();
if (code) join.show(code);
else if (signIn.token()) start(signIn.token());
else signOut('', false);
