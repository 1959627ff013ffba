// The embeddable visitor widget's source: one <script data-desk> tag; a Shadow-DOM launcher + chat panel; one WebSocket to the script's origin. No framework; `make assets` bundles it with client/ and minifies it (esbuild) into the one served file, build/assets/widget.js.
import {
  CLOSE_REMOVED, MAX_MESSAGE_CHARS, SEEN_LABEL, backoffDelay, cleanAttributes, createOutbox, deskPath,
  keepAlive, newClientMsgId, requestTicket, seenFrame, sendStateLabel, socketUrl, subprotocols, typingSender, typingShown,
} from '../client/protocol.js';
import { appendWithLinks, dayLabel, dayStart, withoutBidiControls } from '../client/text.js';
import { ACCEPT, attachmentNode, attachmentOf, createAttachmentUrls } from '../client/upload.js';
import { setupFiles } from './files.js';
import { followPages } from './pages.js';
import { heldBackFor, heldBackText } from './held-back.js';
import { load, store } from './storage.js';
import { availability } from './availability.js';
import STYLES from './widget.css';

// The panel's constant markup. The log is a live region around a list (each message a list item);
// the panel's heading row is a plain box, not a page banner.
const SKELETON = `<button class="launcher" type="button" aria-expanded="false" aria-controls="panel"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg><span class="badge" aria-hidden="true" hidden></span></button>
<section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden><div class="header"><h2 id="title">Support</h2><span class="connection" role="status"></span><button class="close" type="button" aria-label="Close chat">×</button></div>
<div class="wait" role="status" hidden></div><div class="log" role="log" aria-live="polite" aria-label="Messages"><ol><li class="empty">Ask us anything: we usually answer within minutes.</li></ol></div><p class="typing" hidden></p>
<form><button class="attach" type="button" aria-label="Attach a file"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 7v9a4 4 0 0 1-8 0V6a2.5 2.5 0 0 1 5 0v9.5a1 1 0 0 1-2 0V7"/></svg></button><input type="file" hidden><label class="visually-hidden" for="message">Message</label><textarea id="message" rows="1" placeholder="Write a message…"></textarea><button type="submit">Send</button></form></section>`;

(() => {
  // Host markup can shadow globals and document members (<a id="SupportChat">, <img name="currentScript">):
  // read the DOM through its prototypes, never read the global back, mark this copy with a symbol.
  const doc = document;
  const DocumentProto = Document.prototype;
  const EventTargetProto = EventTarget.prototype;
  const LOADED = Symbol.for('support-desk.widget');
  if (window[LOADED]) return;
  window[LOADED] = 1;
  const querySelector = (selector) => DocumentProto.querySelector.call(doc, selector);
  const createElement = (tag) => DocumentProto.createElement.call(doc, tag);
  const documentGetter = (name) => Object.getOwnPropertyDescriptor(DocumentProto, name).get.call(doc);
  const pageHidden = () => documentGetter('hidden');
  const listen = (target, type, handler) => EventTargetProto.addEventListener.call(target, type, handler);

  const current = documentGetter('currentScript');
  const script = current instanceof HTMLScriptElement ? current : querySelector('script[data-desk][src*="widget.js"]');
  if (!script) return;
  const options = script.dataset;
  const desk = options.desk || 'demo';
  const origin = new URL(script.src, location.href);

  // Verified identity (docs/widget.md): the host's server vouches for a logged-in customer with
  // data-user-id + data-user-hash; then the desk keeps one conversation for them on every device.
  let verified = options.userId ? { id: options.userId, hash: options.userHash || '' } : null;
  // what a verified customer's page passed through identify({ attributes }): shown to agents as the page's claims
  let attributes;

  // ---- storage (widget/storage.js: never throws, private modes work for the life of the page) ----
  // Storage never names a verified customer: their unread mark's key has no id and goes at logout (so do old …:u:<id> keys).
  const KEY_BASE = 'supportchat:' + origin.host + ':' + desk;
  let tokenKey, seenKey, resumeKey;
  const chooseKeys = () => {
    tokenKey = KEY_BASE + (verified ? ':verified' : '');
    seenKey = tokenKey + ':seen';
    resumeKey = tokenKey + ':resume';
  };
  chooseKeys();
  const forgetOtherCustomers = () => {
    try {
      for (let i = localStorage.length; i--;) {
        const key = localStorage.key(i);
        if (key && key.startsWith(KEY_BASE + ':u:')) localStorage.removeItem(key);
      }
    } catch { /* unavailable */ }
    if (!verified) store(KEY_BASE + ':verified:seen', null);
  };
  forgetOtherCustomers();
  const clock = (at) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  // ---- DOM: a constant skeleton (no data ever goes through innerHTML) ----
  const host = createElement('support-chat');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = SKELETON;
  // styles as an adopted sheet: CSP does not block it, as it would a <style> (kept only as the fallback)
  if (root.adoptedStyleSheets) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = createElement('style');
    style.textContent = STYLES;
    root.prepend(style);
  }
  const find = (selector) => root.querySelector(selector);
  const launcher = find('.launcher');
  const badge = find('.badge');
  const panel = find('.panel');
  const connectionLabel = find('.connection');
  const scroller = find('.log');
  const log = find('ol');
  const input = find('textarea');
  const form = find('form');
  const emptyNote = find('.empty');
  const GREETING = emptyNote.textContent;
  const waitNote = find('.wait');
  const picker = find('[type=file]');
  picker.accept = ACCEPT;
  const typingNote = find('.typing');
  input.maxLength = MAX_MESSAGE_CHARS;
  // What is true: agents online or not, from the status endpoint (no socket); the email prompt.
  const emailAskedKey = KEY_BASE + ':email-asked';
  const avail = availability({
    origin, desk, make: createElement, header: find('.header'), composer: form, greeting: emptyNote,
    send: (frame) => Boolean(welcomed && socket && socket.readyState == 1 && (socket.send(JSON.stringify(frame)), 1)),
    asked: () => load(emailAskedKey), remember: () => store(emailAskedKey, 1),
  });

  // ---- state ----
  let socket = null, welcomed = false, askingTicket = false, attempt = 0, nameRefused = false;
  let failures = 0, retryTimer = 0, stopPing = () => {}, state = '', isOpen = false, closedByDesk = false;
  let unread = 0, seenSeq = Number(load(seenKey)) || 0, messages = [];
  // the desk's marks: how far an agent has read (our messages up to it read "Seen"), how far we told it we saw
  let readSeq = 0, toldSeen = 0;
  let token = load(tokenKey); // also kept in memory when storage is unavailable
  let epoch = '';
  const listeners = {};
  const emit = (type, detail) => {
    for (const listener of listeners[type] || []) {
      try { listener(detail); } catch (error) { setTimeout(() => { throw error; }); }
    }
    EventTargetProto.dispatchEvent.call(window, new CustomEvent('supportchat:' + type, { detail }));
  };
  const STATE_LABELS = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', closed: 'Closed', waiting: 'Waiting…' };
  const setState = (next, retryAt) => {
    if (next != 'waiting') waitNote.hidden = true;
    if (next == state && next != 'waiting') return;
    state = next;
    connectionLabel.dataset.state = next;
    connectionLabel.textContent = STATE_LABELS[next];
    emit('state', next == 'waiting' ? { state: next, retryAt } : { state: next });
  };
  const labelLauncher = () => launcher.setAttribute('aria-label',
    (isOpen ? 'Close' : 'Open') + ' support chat' + (unread ? ', ' + unread + ' unread' : ''));
  const setUnread = (count) => {
    if (count == unread) return;
    unread = count;
    badge.textContent = count > 99 ? '99+' : count;
    badge.hidden = !count;
    labelLauncher();
    emit('unread', { count });
  };
  const markSeen = () => {
    for (const message of messages) if (message.seq > seenSeq) seenSeq = message.seq;
    store(seenKey, seenSeq);
    setUnread(0);
    // the desk hears the highest seq shown while the panel is open and the tab visible
    const shown = since();
    if (shown > toldSeen && isOpen && !pageHidden() && welcomed && socket.readyState == 1) {
      socket.send(JSON.stringify(seenFrame(shown)));
      toldSeen = shown;
    }
  };

  // ---- rendering: one <li> per message, updated in place; a day separator where a day starts ----
  const draw = (message) => {
    if (!message.el) {
      message.el = createElement('li');
      message.el.dataset.day = dayStart(message.at);
    }
    const mine = message.sender == 'user';
    message.el.className = mine ? 'mine' : 'theirs';
    // each bubble isolated (dir=auto: Arabic reads right to left), shown without bidi controls (no
    // "fdp.exe" read as "exe.pdf"), its links <a> nodes
    const bubble = createElement('p');
    bubble.dir = 'auto';
    // a file: its thumbnail or download link (a signed URL from the desk), its name as text
    if (message.attachment) bubble.append(attachmentNode(message.attachment, createElement, urls, origin));
    else appendWithLinks(bubble, withoutBidiControls(message.message), createElement);
    const meta = createElement('small');
    // a reply is signed by the agent who wrote it (agentName), as text
    meta.textContent = (mine ? 'You' : message.agentName || 'Support') + ' · ' + clock(message.at) +
      (!mine ? '' : ' · ' + (message.seq && message.seq <= readSeq ? SEEN_LABEL : sendStateLabel(message.st)));
    message.el.replaceChildren(bubble, meta);
    return message.el;
  };
  const daySeparator = (at) => {
    const item = createElement('li');
    item.className = 'day';
    item.dataset.day = dayStart(at);
    const label = createElement('span');
    label.setAttribute('role', 'separator');
    label.textContent = dayLabel(at);
    label.setAttribute('aria-label', label.textContent);
    item.append(label);
    return item;
  };
  const scrollToEnd = () => { scroller.scrollTop = scroller.scrollHeight; };
  const show = (message) => {
    messages.push(message);
    const last = log.lastElementChild;
    if (!last || Number(last.dataset.day) !== dayStart(message.at)) log.append(daySeparator(message.at));
    log.append(draw(message));
    emptyNote.hidden = true;
    scrollToEnd();
  };
  const clearLog = () => { messages = []; log.replaceChildren(emptyNote); };
  const findMessage = (id, clientMsgId) =>
    messages.find((m) => (id && m.id == id) || (clientMsgId && m.cid == clientMsgId));
  const transmit = (message) => {
    if (!welcomed || !socket || socket.readyState != 1) return false;
    socket.send(JSON.stringify(message.raw || { type: 'message', message: message.message, clientMsgId: message.cid }));
    return true;
  };
  const outbox = createOutbox(transmit);
  // "Ana is typing…" under the log, until her message or 6 s without another frame
  const typing = typingShown(() => {
    typingNote.textContent = typing.labels()[0] || '';
    typingNote.hidden = !typingNote.textContent;
  });
  const sendTyping = typingSender((frame) => welcomed && socket.readyState == 1 && (socket.send(JSON.stringify(frame)), true));
  const toPublic = (m) => ({ id: m.id, sender: m.sender, message: m.message, at: m.at, clientMsgId: m.cid, agentName: m.agentName, attachment: m.attachment });
  const fromWire = (x) => ({
    id: x.id, cid: x.clientMsgId, seq: Number(x.seq) || 0, sender: x.sender == 'admin' ? 'admin' : 'user',
    message: String(x.message), at: Number(x.at) || Date.now(), st: x.st,
    agentName: x.sender == 'admin' && typeof x.agentName == 'string' && x.agentName.trim() ? x.agentName.slice(0, 64) : undefined,
    attachment: attachmentOf(x.attachment),
  });
  // since: the largest seq shown (welcome, live messages, acks): every message with a seq is in `messages`
  const since = () => messages.reduce((max, m) => (m.seq > max ? m.seq : max), 0);
  // The resume point (epoch + the messages shown, hence since) and the outbox, kept with the token so a
  // reload resumes too; when too big for the host's storage, only the outbox is kept (the reload starts fresh).
  const saveResumePoint = () => {
    if (!token) return store(resumeKey, null);
    const kept = messages.slice(-200).map((m) => ({ ...toPublic(m), seq: m.seq, st: m.st }));
    let value = JSON.stringify({ e: epoch, m: kept });
    if (value.length > 2e5) value = JSON.stringify({ m: kept.filter((m) => m.st == 'sending') });
    store(resumeKey, value);
  };

  // ---- frames from the desk ----
  const settle = (message, frame) => {
    outbox.settle(message.cid);
    Object.assign(message, { id: frame.id, seq: frame.seq, at: frame.at, st: 'sent' });
    draw(message);
  };
  // A message from the desk: one already shown (same id, or own clientMsgId in the outbox) is settled, not doubled.
  const take = (frame) => {
    let message = findMessage(frame.id, frame.sender == 'user' && frame.clientMsgId);
    if (message) return settle(message, frame);
    show(message = fromWire(frame));
    emit('message', toPublic(message));
    return message;
  };
  const onWelcome = (frame) => {
    welcomed = true;
    failures = 0;
    readSeq = Number(frame.readSeq) || 0;
    toldSeen = Number(frame.seenSeq) || 0;
    if (frame.token) store(tokenKey, token = frame.token);
    epoch = typeof frame.epoch == 'string' ? frame.epoch : '';
    const stored = (frame.messages || []).filter((x) => x && x.message != null);
    if (frame.resumed === true) {
      for (const x of stored) take(x); // exactly what was missed: append
    } else {
      clearLog();
      for (const x of stored) show(fromWire(x));
      // the outbox stays below the desk's latest messages; what the desk already stored is settled
      for (const pending of outbox.entries()) {
        const storedCopy = findMessage(null, pending.cid);
        if (storedCopy) outbox.settle(pending.cid);
        else show(pending);
      }
    }
    // the outbox goes out again on every connect, same clientMsgId: the desk stores it once
    outbox.resend();
    emptyNote.hidden = messages.length > 0;
    for (const message of messages) if (message.sender == 'user') draw(message); // "Seen" up to readSeq
    if (isOpen) markSeen();
    else setUnread(messages.filter((m) => m.sender == 'admin' && m.seq > seenSeq).length);
    setState('connected');
    pages.forget();
    pages.report();
  };
  const onFrame = (frame) => {
    avail.frame(frame);
    if (frame.type == 'welcome') { onWelcome(frame); urls.retry(); }
    else if (frame.type == 'attachment_url') urls.put(frame);
    else if (frame.type == 'ack') {
      const message = findMessage(null, frame.clientMsgId);
      if (message) settle(message, frame);
    } else if (frame.type == 'message') {
      if (frame.sender == 'admin') typing.clear('');
      if (take(frame) && frame.sender == 'admin') isOpen && !pageHidden() ? markSeen() : setUnread(unread + 1);
    } else if (frame.type == 'typing') {
      typing.show('', (typeof frame.agentName == 'string' && frame.agentName.slice(0, 64) || 'Support') + ' is typing…');
    } else if (frame.type == 'read') {
      readSeq = Math.max(readSeq, Number(frame.seq) || 0);
      for (const message of messages) if (message.sender == 'user') draw(message);
    } else if (frame.type == 'error' && frame.clientMsgId) {
      // too fast: still sending, again once the desk says so; anything else is final
      const message = outbox.get(frame.clientMsgId);
      if (message && outbox.refuse(frame) == 'failed') draw(message);
    }
    if (frame.type != 'pong' && frame.type != 'typing') saveResumePoint();
  };

  // ---- who and where: the page reported on connect and after every navigation (widget/pages.js) ----
  const pages = followPages({
    listen, win: window, doc, documentGetter, attributes: () => verified && attributes,
    send: (frame) => welcomed && socket && socket.readyState == 1 && (socket.send(frame), true),
  });

  // ---- connection: a ticket, then the socket; backoff with jitter ----
  // The socket's URL and headers end up in logs (wrangler tail, Workers Logs): they carry only a
  // single-use ticket. The token, name and identity proof go in the ticket request's body
  // (text/plain: a simple request from any site, no CORS preflight). A 401 there means the desk
  // refuses this token: it is dropped once and the visitor starts over (docs/protocol.md, Tickets).
  const visitorPath = deskPath(origin, desk) + '/visitor';
  // The chat was closed by the desk's team: no reconnect, a clear line instead of "Reconnecting…".
  const closeForGood = () => {
    clearTimeout(retryTimer);
    closedByDesk = true;
    setState('closed');
    input.disabled = true;
    emptyNote.textContent = 'This chat was closed by the support team.';
    emptyNote.hidden = false;
    log.append(emptyNote);
  };
  const retry = () => {
    setState('reconnecting');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, backoffDelay(failures++));
  };
  // Someone new refused a handshake: ask the desk whether new visitors from this network are held
  // back (widget/held-back.js); then say so in the panel and retry exactly when it says.
  const waitHeldBack = (ms) => {
    const at = Date.now() + ms;
    waitNote.textContent = heldBackText(ms, at, clock);
    waitNote.hidden = false;
    setState('waiting', at);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, ms + Math.random() * 1000);
  };
  const forgetToken = () => {
    store(tokenKey, token = null);
    store(seenKey, null);
    seenSeq = 0;
    epoch = '';
    saveResumePoint();
  };
  // what a ticket request presents: the token, or the host's identity proof
  const credentials = () => {
    const body = {};
    if (token) body.token = token;
    if (verified) { body.userId = verified.id; body.userHash = verified.hash; }
    return body;
  };
  function connect() {
    clearTimeout(retryTimer);
    if (socket || askingTicket || closedByDesk) return;
    if (!state) setState('connecting');
    const tokenUsed = token, thisAttempt = ++attempt, body = credentials();
    // a name the desk refuses must not keep the chat shut: after a 400 for it, go on without it
    const name = options.name && options.name.trim();
    if (name && !nameRefused) body.name = name.slice(0, 64);
    askingTicket = true;
    requestTicket(visitorPath + '/ticket', { body: JSON.stringify(body) }).then((answer) => {
      if (thisAttempt != attempt) return; // identify() started over meanwhile
      askingTicket = false;
      const status = answer.status;
      if (answer.ticket) openSocket(answer.ticket, tokenUsed);
      else if (status == 403) closeForGood(); // blocked by the desk's team
      else if (status == 400 && body.name) { nameRefused = true; connect(); }
      else if (status == 401 && tokenUsed && !verified && token == tokenUsed) { forgetToken(); connect(); }
      // held back: someone new is told why and when (the desk's Limiter, or too many tickets from this address)
      else if (status == 429 && answer.retryAfterMs && !tokenUsed && !verified) waitHeldBack(answer.retryAfterMs);
      else if (status == 429 && answer.retryAfterMs) { setState('reconnecting'); retryTimer = setTimeout(connect, answer.retryAfterMs); }
      else retry();
    });
  }
  function openSocket(ticket, tokenUsed) {
    const resume = (tokenUsed || verified) && epoch ? { since: since(), epoch } : {};
    let current;
    try {
      current = socket = new WebSocket(socketUrl(origin, desk, 'visitor', resume), subprotocols(ticket));
    } catch {
      socket = null;
      return retry();
    }
    welcomed = false;
    current.addEventListener('message', (event) => {
      if (socket != current) return; // a socket being replaced (identify) delivers no more
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame && typeof frame == 'object') onFrame(frame);
    });
    current.addEventListener('open', () => { stopPing = keepAlive(current); });
    current.addEventListener('close', (event) => {
      if (socket != current) return;
      const wasWelcomed = welcomed;
      socket = null;
      welcomed = false;
      stopPing();
      // 4003: the desk's team deleted this conversation or blocked this visitor: say so, stay closed.
      if (event.code == CLOSE_REMOVED) return closeForGood();
      // Someone new refused at the upgrade (a 429 a browser cannot read): ask the desk whether new
      // visitors from this network are held back, and say so; otherwise a new ticket says why.
      if (!wasWelcomed && !tokenUsed && !verified) heldBackFor(visitorPath).then((ms) => (ms > 0 && !socket ? waitHeldBack(ms) : retry()));
      else retry();
    });
  }
  listen(window, 'online', () => { if (!socket) { failures = 0; connect(); } });

  // ---- panel ----
  const setOpen = (open) => {
    if (open == isOpen) return;
    const focusInside = panel.contains(root.activeElement);
    isOpen = open;
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', open);
    labelLauncher();
    if (open) { markSeen(); scrollToEnd(); input.focus(); avail.refresh(); } else if (focusInside) launcher.focus();
    emit(open ? 'open' : 'close', {});
  };
  launcher.addEventListener('click', () => setOpen(!isOpen));
  find('.close').addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key == 'Escape') { event.preventDefault(); setOpen(false); }
  });
  input.addEventListener('keydown', (event) => {
    if (event.key == 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send();
    }
  });
  form.addEventListener('submit', (event) => { event.preventDefault(); send(); });
  const grow = () => { input.style.height = ''; input.style.height = input.scrollHeight + 2 + 'px'; };
  input.addEventListener('input', () => { grow(); if (input.value.trim()) sendTyping(); });
  function send() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    grow();
    const message = { cid: newClientMsgId(), sender: 'user', message: text, at: Date.now(), st: 'sending' };
    show(message);
    outbox.add(message);
    saveResumePoint();
    emit('message', toPublic(message));
    input.focus();
    avail.wrote();
  }
  // ---- files: the button, a paste, a drop (widget/files.js); the message comes back on the socket ----
  const urls = createAttachmentUrls((id) => transmit({ raw: { type: 'attachment_url', id } }));
  setupFiles({
    button: find('.attach'), picker, input, panel, visitorPath, credentials, urls, ready: () => welcomed,
    say: (text) => { waitNote.textContent = text; waitNote.hidden = !text; },
  });
  listen(doc, 'visibilitychange', () => { if (isOpen && !pageHidden()) markSeen(); });
  // A follow-up email links back to the page with #support-chat: the conversation opens.
  if (location.hash == '#support-chat') setOpen(true);

  const api = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!isOpen),
    on: (type, listener) => {
      (listeners[type] = listeners[type] || []).push(listener);
      return () => { listeners[type] = listeners[type].filter((other) => other != listener); };
    },
    get isOpen() { return isOpen; },
    get unread() { return unread; },
    get state() { return state; },
    get messages() { return messages.map(toPublic); },
    // a single-page host logs a customer in ({userId, userHash}) or out (null): another conversation
    identify: (user) => {
      verified = user && user.userId ? { id: String(user.userId), hash: String(user.userHash || '') } : null;
      attributes = verified ? cleanAttributes(user.attributes) : undefined;
      store(KEY_BASE + ':verified:seen', null);
      chooseKeys();
      forgetOtherCustomers();
      const previous = socket;
      socket = null;
      if (previous) { stopPing(); previous.close(); }
      clearLog();
      outbox.clear();
      emptyNote.hidden = false;
      token = load(tokenKey);
      seenSeq = Number(load(seenKey)) || 0;
      epoch = '';
      failures = 0;
      attempt++;
      askingTicket = false;
      closedByDesk = false;
      input.disabled = false;
      emptyNote.textContent = GREETING;
      setUnread(0);
      connect();
    },
  };
  // a reload shows what was shown and resumes from there (a cache that does not parse is ignored)
  try {
    const cached = token && JSON.parse(load(resumeKey));
    if (cached && Array.isArray(cached.m)) {
      for (const x of cached.m) {
        if (!x || x.message == null) continue;
        const message = fromWire(x);
        show(message);
        if (message.st == 'sending') outbox.keep(message);
      }
      if (typeof cached.e == 'string' && cached.e.length <= 64) epoch = cached.e;
    }
  } catch { /* ignored */ }
  // never read back: a host that overwrites it breaks only its own calls
  try { window.SupportChat = api; } catch { /* a host made it read-only */ }
  labelLauncher();
  (querySelector('body') || querySelector(':root')).append(host);
  emit('ready', {});
  avail.refresh(true);
  connect();
})();
