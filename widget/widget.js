// The embeddable visitor widget: one <script data-desk> tag; a Shadow-DOM launcher + chat panel; one WebSocket to the script's origin. No dependencies, no build step.
(() => {
  'use strict';
  // Host markup can shadow globals and document members (<a id="SupportChat">, <img name="currentScript">):
  // read the DOM through its prototypes, never read the global back, mark this copy with a symbol.
  const doc = document, DP = Document.prototype, ET = EventTarget.prototype, ONE = Symbol.for('support-desk.widget');
  if (window[ONE]) return;
  window[ONE] = 1;
  const qs = s => DP.querySelector.call(doc, s), make = t => DP.createElement.call(doc, t);
  const got = p => Object.getOwnPropertyDescriptor(DP, p).get.call(doc), hidden = () => got('hidden');
  const cur = got('currentScript');
  const S = cur instanceof HTMLScriptElement ? cur : qs('script[data-desk][src*="widget.js"]');
  if (!S) return;
  const D = S.dataset, desk = D.desk || 'demo', src = new URL(S.src, location.href);
  const base = (src.protocol == 'https:' ? 'wss://' : 'ws://') + src.host + '/desks/' + encodeURIComponent(desk) + '/visitor';
  // Verified identity (docs/widget.md): the host's server vouches for a logged-in customer with
  // data-user-id + data-user-hash; then the desk keeps one conversation for them on every device.
  let who = D.userId ? { id: D.userId, hash: D.userHash || '' } : null;
  // Storage never names a verified customer: their unread mark's key has no id and goes at logout (so do old …:u:<id> keys)
  const KB = 'supportchat:' + src.host + ':' + desk;
  let K, KS, KR;
  const keys = () => { K = KB + (who ? ':verified' : ''); KS = K + ':seen'; KR = K + ':resume' };
  keys();
  const get = k => { try { return localStorage.getItem(k) } catch (e) { return null } };
  const put = (k, v) => { try { v == null ? localStorage.removeItem(k) : localStorage.setItem(k, v) } catch (e) {} };
  const forget = () => {
    try { for (let i = localStorage.length; i--;) { const k = localStorage.key(i); if (k && k.startsWith(KB + ':u:')) localStorage.removeItem(k) } } catch (e) {}
    if (!who) put(KB + ':verified:seen', null);
  };
  forget();
  const uid = () => { try { return crypto.randomUUID() } catch (e) { return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2) } };
  const fmt = t => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  // ---- DOM (a constant skeleton: no data ever goes through innerHTML) ----
  const host = make('support-chat');
  const root = host.attachShadow({ mode: 'open' });
  // styles as an adopted sheet: CSP does not block it, as it would a <style> (kept only as the fallback)
  const css = `:host{all:initial!important;display:block!important;position:fixed!important;right:0!important;bottom:0!important;width:0!important;height:0!important;z-index:2147483646!important}
*{box-sizing:border-box;margin:0;padding:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2433;letter-spacing:normal;text-transform:none}
button{cursor:pointer;border:0;background:none}
[hidden]{display:none!important}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
textarea:focus-visible{outline:0;border-color:#2d5bff;box-shadow:0 0 0 3px #2d5bff55}
.l{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;background:#2d5bff;box-shadow:0 4px 14px #0004;display:grid;place-items:center}
.l svg{width:28px;height:28px;fill:#fff}
.b{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e5243b;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.p{position:fixed;right:20px;bottom:92px;width:370px;height:min(580px,calc(100dvh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px #0004;overflow:hidden}
header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:#2d5bff}
header *{color:#fff}
h2{font-size:17px;font-weight:600;flex:1}
.s{font-size:12px;opacity:.9}
.s:before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:5px;background:#ffd24a}
.s[data-s=connected]:before{background:#3ddc84}
.x{font-size:26px;line-height:1;width:34px;height:34px;border-radius:8px}
ol{flex:1;overflow-y:auto;list-style:none;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f4f6fb}
li{max-width:82%;align-self:flex-start}
li.u{align-self:flex-end}
p{padding:8px 12px;border-radius:14px 14px 14px 4px;background:#fff;box-shadow:0 1px 2px #0002;white-space:pre-wrap;overflow-wrap:anywhere}
.u p{background:#2d5bff;color:#fff;border-radius:14px 14px 4px 14px}
small{display:block;font-size:11px;color:#5b6474;margin:2px 6px}
.u small{text-align:right}
.e{padding:24px;text-align:center;color:#5b6474;align-self:stretch;max-width:none}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e7ef}
textarea{flex:1;resize:none;font-size:16px;min-height:44px;max-height:120px;padding:10px;border:1px solid #c5ccd9;border-radius:10px}
form button{font-size:16px;font-weight:600;padding:0 16px;border-radius:10px;background:#2d5bff;color:#fff}
.v{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.w{padding:10px 14px;background:#fff4d6;border-bottom:1px solid #f0d48a;font-size:13px}
@media (max-width:479px){.p{inset:0;width:100%;height:100dvh;border-radius:0}}`;
  root.innerHTML = `<button class="l" type="button" aria-expanded="false" aria-controls="p"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg><span class="b" aria-hidden="true" hidden></span></button>
<section class="p" id="p" role="dialog" aria-labelledby="h" hidden><header><h2 id="h">Support</h2><span class="s" role="status"></span><button class="x" type="button" aria-label="Close chat">×</button></header>
<div class="w" role="status" hidden></div><ol role="log" aria-live="polite" aria-label="Messages"><li class="e">Ask us anything: we usually answer within minutes.</li></ol>
<form><label class="v" for="t">Message</label><textarea id="t" rows="1" maxlength="4000" placeholder="Write a message…"></textarea><button type="submit">Send</button></form></section>`;
  if (root.adoptedStyleSheets) { const c = new CSSStyleSheet(); c.replaceSync(css); root.adoptedStyleSheets = [c] }
  else { const c = make('style'); c.textContent = css; root.prepend(c) }
  const $ = s => root.querySelector(s);
  const L = $('.l'), B = $('.b'), P = $('.p'), ST = $('.s'), LOG = $('ol'), TA = $('textarea'), F = $('form'), EMPTY = $('.e'), HELLO = EMPTY.textContent, WAIT = $('.w');

  // ---- state ----
  let ws = null, welcomed = false, asking = false, gen = 0, noName = false, fails = 0, timer = 0, ping = 0, state = '', isOpen = false, closedByDesk = false;
  let unread = 0, seen = +get(KS) || 0, msgs = [], tk = get(K), ep = ''; // tk: the token, also kept in memory when storage is unavailable
  const ls = {};
  const emit = (t, d) => {
    (ls[t] || []).forEach(f => { try { f(d) } catch (e) { setTimeout(() => { throw e }) } });
    ET.dispatchEvent.call(window, new CustomEvent('supportchat:' + t, { detail: d }));
  };
  const setState = (s, retryAt) => {
    if (s != 'waiting') WAIT.hidden = true;
    if (s == state && s != 'waiting') return;
    state = s;
    ST.dataset.s = s;
    ST.textContent = { connecting: 'Connecting…', connected: 'Online', reconnecting: 'Reconnecting…', closed: 'Closed', waiting: 'Waiting…' }[s];
    emit('state', s == 'waiting' ? { state: s, retryAt } : { state: s });
  };
  const setUnread = n => {
    if (n == unread) return;
    unread = n;
    B.textContent = n > 99 ? '99+' : n;
    B.hidden = !n;
    label();
    emit('unread', { count: n });
  };
  const label = () => L.setAttribute('aria-label', (isOpen ? 'Close' : 'Open') + ' support chat' + (unread ? ', ' + unread + ' unread' : ''));
  const markSeen = () => {
    for (const m of msgs) if (m.seq > seen) seen = m.seq;
    put(KS, seen);
    setUnread(0);
  };

  // ---- rendering: one <li> per message, updated in place ----
  const draw = m => {
    if (!m.el) {
      m.el = make('li');
      m.el.append(make('p'), make('small'));
      m.el.firstChild.dir = 'auto'; // isolated, and shown without bidi controls (no "fdp.exe" read as "exe.pdf")
    }
    const u = m.sender == 'user';
    m.el.className = u ? 'u' : 'a';
    m.el.firstChild.textContent = m.message.replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '');
    // a reply is signed by the agent who wrote it (agentName), as text
    m.el.lastChild.textContent = (u ? 'You' : m.agentName || 'Support') + ' · ' + fmt(m.at) +
      (u ? ' · ' + ({ sending: 'Sending…', failed: 'Not sent' }[m.st] || 'Sent') : '');
    return m.el;
  };
  const scroll = () => { LOG.scrollTop = LOG.scrollHeight };
  const add = m => { msgs.push(m); LOG.append(draw(m)); EMPTY.hidden = true; scroll() };
  const find = (id, cid) => msgs.find(m => (id && m.id == id) || (cid && m.cid == cid));
  const out = m => { if (welcomed && ws && ws.readyState == 1) ws.send(JSON.stringify({ type: 'message', message: m.message, clientMsgId: m.cid })) };
  const pub = m => ({ id: m.id, sender: m.sender, message: m.message, at: m.at, clientMsgId: m.cid, agentName: m.agentName });
  const mk = x => ({ id: x.id, cid: x.clientMsgId, seq: +x.seq || 0, sender: x.sender == 'admin' ? 'admin' : 'user', message: x.message + '', at: +x.at || Date.now(), st: x.st,
    agentName: x.sender == 'admin' && typeof x.agentName == 'string' && x.agentName.trim() ? x.agentName.slice(0, 64) : undefined });
  // since: the largest seq shown (welcome, live messages, acks): every message with a seq is in msgs
  const since = () => msgs.reduce((a, m) => m.seq > a ? m.seq : a, 0);
  // The resume point (epoch + the messages shown, hence since) and the outbox, kept with the token so a
  // reload resumes too; when too big for the host's storage, only the outbox is kept (the reload starts fresh).
  const save = () => {
    if (!tk) return put(KR, null);
    const m = msgs.slice(-200).map(x => ({ ...pub(x), seq: x.seq, st: x.st }));
    let v = JSON.stringify({ e: ep, m });
    if (v.length > 2e5) v = JSON.stringify({ m: m.filter(x => x.st == 'sending') });
    put(KR, v);
  };

  // ---- frames ----
  const onFrame = f => {
    if (f.type == 'welcome') {
      welcomed = true;
      fails = 0;
      if (f.token) put(K, tk = f.token);
      ep = typeof f.epoch == 'string' ? f.epoch : '';
      const got = (f.messages || []).filter(x => x && x.message != null);
      if (f.resumed === true) for (const x of got) take(x); // exactly what was missed: append
      else {
        const old = msgs;
        msgs = [];
        LOG.replaceChildren(EMPTY);
        for (const x of got) add(mk(x));
        for (const m of old) if (m.st == 'sending' && !find(null, m.cid)) add(m);
      }
      // the outbox goes out again on every connect, same clientMsgId: the desk stores it once
      for (const m of msgs) if (m.st == 'sending') out(m);
      EMPTY.hidden = msgs.length > 0;
      if (isOpen) markSeen();
      else setUnread(msgs.filter(m => m.sender == 'admin' && m.seq > seen).length);
      setState('connected');
    } else if (f.type == 'ack') {
      const m = find(null, f.clientMsgId);
      if (m) settle(m, f);
    } else if (f.type == 'message') {
      if (take(f) && f.sender == 'admin') isOpen && !hidden() ? markSeen() : setUnread(unread + 1);
    } else if (f.type == 'error' && f.clientMsgId) {
      const m = find(null, f.clientMsgId);
      // too fast: still sending, again once the desk says so; anything else is final
      if (m && f.code == 'rate_limited') setTimeout(() => m.st == 'sending' && out(m), +f.retryAfterMs || 1000);
      else if (m) { m.st = 'failed'; draw(m) }
    }
    if (f.type != 'pong') save();
  };
  const settle = (m, f) => { Object.assign(m, { id: f.id, seq: f.seq, at: f.at, st: 'sent' }); draw(m) };
  // A message from the desk: one already shown (same id, or own clientMsgId in the outbox) is settled, not doubled.
  const take = f => {
    let m = find(f.id, f.sender == 'user' && f.clientMsgId);
    if (m) return settle(m, f);
    add(m = mk(f));
    emit('message', pub(m));
    return m;
  };

  // ---- connection: a ticket, then the socket; backoff with jitter ----
  // The socket's URL and headers end up in logs (wrangler tail, Workers Logs): they carry only a
  // single-use ticket. The token, name and identity proof go in the ticket request's body
  // (text/plain: a simple request from any site, no CORS preflight). A 401 there means the desk
  // refuses this token: it is dropped once and the visitor starts over (docs/protocol.md, Tickets).
  const ticket = body => fetch(src.origin + '/desks/' + encodeURIComponent(desk) + '/visitor/ticket',
    { method: 'POST', body: JSON.stringify(body), cache: 'no-store' })
    .then(r => r.json().then(j => ({ s: r.status, t: r.status == 200 && j && typeof j.ticket == 'string' ? j.ticket : '', wait: +(j && j.retryAfterMs) || 0 }),
      () => ({ s: r.status })), () => ({ s: 0 }));
  // The chat was closed by the desk's team: no reconnect, a clear line instead of "Reconnecting…".
  const shut = () => {
    clearTimeout(timer);
    closedByDesk = true;
    setState('closed');
    TA.disabled = true;
    EMPTY.textContent = 'This chat was closed by the support team.';
    EMPTY.hidden = false;
    LOG.append(EMPTY);
  };
  const retry = () => {
    setState('reconnecting');
    clearTimeout(timer);
    timer = setTimeout(connect, Math.min(15000, 700 * 2 ** fails++) * (0.5 + Math.random() / 2));
  };
  // Someone new refused a handshake: ask the desk whether new visitors from this network are held
  // back (429 + retryAfterMs); then say so in the panel and retry exactly when it says.
  const heldBack = () => fetch(src.origin + '/desks/' + encodeURIComponent(desk) + '/visitor/check',
    { method: 'POST', body: '{}', cache: 'no-store' })
    .then(r => r.status == 429 ? r.json().then(b => +b.retryAfterMs || 0, () => 0) : 0, () => 0);
  const wait = ms => {
    const at = Date.now() + ms, mins = Math.ceil(ms / 60000);
    WAIT.textContent = 'Many people are starting chats from your network right now, so we are holding new chats back for a moment. ' +
      'We will connect you automatically ' + (ms < 60000 ? 'in about ' + Math.ceil(ms / 1000) + ' seconds' : 'in about ' + mins + ' minute' + (mins > 1 ? 's' : '')) +
      ' (at ' + fmt(at) + ').';
    WAIT.hidden = false;
    setState('waiting', at);
    clearTimeout(timer);
    timer = setTimeout(connect, ms + Math.random() * 1000);
  };
  function connect() {
    clearTimeout(timer);
    if (ws || asking || closedByDesk) return;
    if (!state) setState('connecting');
    const tok = tk, my = ++gen, body = {};
    if (tok) body.token = tok;
    if (who) { body.userId = who.id; body.userHash = who.hash }
    // a name the desk refuses must not keep the chat shut: after a 400 for it, go on without it
    if (D.name && D.name.trim() && !noName) body.name = D.name.trim().slice(0, 64);
    asking = true;
    ticket(body).then(a => {
      if (my != gen) return; // identify() started over meanwhile
      asking = false;
      if (a.t) open(a.t, tok);
      else if (a.s == 403) shut(); // blocked by the desk's team
      else if (a.s == 400 && body.name) { noName = true; connect() }
      else if (a.s == 401 && tok && !who && tk == tok) { put(K, tk = null); put(KS, null); seen = 0; ep = ''; save(); connect() }
      // held back: someone new is told why and when (the desk's Limiter, or too many tickets from this address)
      else if (a.s == 429 && a.wait && !tok && !who) wait(a.wait)
      else if (a.s == 429 && a.wait) { setState('reconnecting'); timer = setTimeout(connect, a.wait) }
      else retry();
    });
  }
  function open(t, tok) {
    const q = new URLSearchParams();
    if ((tok || who) && ep) { q.set('since', since()); q.set('epoch', ep) }
    let w;
    try { w = ws = new WebSocket(base + (q + '' ? '?' + q : ''), ['support-desk.v1', 'support-desk.ticket.' + t]) } catch (e) { ws = null; return retry() }
    welcomed = false;
    w.addEventListener('message', e => {
      if (ws != w) return; // a socket being replaced (identify) delivers no more
      let f;
      try { f = JSON.parse(e.data) } catch (x) { return }
      if (f && typeof f == 'object') onFrame(f);
    });
    w.addEventListener('open', () => { ping = setInterval(() => w.readyState == 1 && w.send('{"type":"ping"}'), 25000) });
    w.addEventListener('close', e => {
      if (ws != w) return;
      const ok = welcomed;
      ws = null;
      welcomed = false;
      clearInterval(ping);
      // 4003: the desk's team deleted this conversation or blocked this visitor: say so, stay closed.
      if (e.code == 4003) return shut();
      // Someone new refused at the upgrade (a 429 a browser cannot read): ask the desk whether new
      // visitors from this network are held back, and say so; otherwise a new ticket says why.
      if (!ok && !tok && !who) heldBack().then(ms => ms > 0 && !ws ? wait(ms) : retry());
      else retry();
    });
  }
  ET.addEventListener.call(window, 'online', () => { if (!ws) { fails = 0; connect() } });

  // ---- panel ----
  const setOpen = o => {
    if (o == isOpen) return;
    const inside = P.contains(root.activeElement);
    isOpen = o;
    P.hidden = !o;
    L.setAttribute('aria-expanded', o);
    label();
    if (o) { markSeen(); scroll(); TA.focus() } else if (inside) L.focus();
    emit(o ? 'open' : 'close', {});
  };
  L.addEventListener('click', () => setOpen(!isOpen));
  $('.x').addEventListener('click', () => setOpen(false));
  P.addEventListener('keydown', e => { if (e.key == 'Escape') { e.preventDefault(); setOpen(false) } });
  TA.addEventListener('keydown', e => {
    if (e.key == 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); F.requestSubmit ? F.requestSubmit() : send() }
  });
  F.addEventListener('submit', e => { e.preventDefault(); send() });
  const grow = () => { TA.style.height = ''; TA.style.height = TA.scrollHeight + 2 + 'px' };
  TA.addEventListener('input', grow);
  function send() {
    const text = TA.value;
    if (!text.trim()) return;
    TA.value = '';
    grow();
    const m = { cid: uid(), sender: 'user', message: text, at: Date.now(), st: 'sending' };
    add(m);
    out(m);
    save();
    emit('message', pub(m));
    TA.focus();
  }
  ET.addEventListener.call(doc, 'visibilitychange', () => { if (isOpen && !hidden()) markSeen() });

  const api = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!isOpen),
    on: (t, f) => { (ls[t] = ls[t] || []).push(f); return () => { ls[t] = ls[t].filter(g => g != f) } },
    get isOpen() { return isOpen },
    get unread() { return unread },
    get state() { return state },
    get messages() { return msgs.map(pub) },
    // a single-page host logs a customer in ({userId, userHash}) or out (null): another conversation
    identify: u => {
      who = u && u.userId ? { id: u.userId + '', hash: (u.userHash || '') + '' } : null;
      put(KB + ':verified:seen', null);
      keys();
      forget();
      const w = ws;
      ws = null;
      if (w) { clearInterval(ping); w.close() }
      msgs = []; LOG.replaceChildren(EMPTY); EMPTY.hidden = false;
      tk = get(K); seen = +get(KS) || 0; ep = ''; fails = 0; gen++; asking = false;
      closedByDesk = false; TA.disabled = false; EMPTY.textContent = HELLO;
      setUnread(0);
      connect();
    },
  };
  // a reload shows what was shown and resumes from there (a cache that does not parse is ignored)
  try {
    const c = tk && JSON.parse(get(KR));
    if (c && Array.isArray(c.m)) {
      for (const x of c.m) if (x && x.message != null) add(mk(x));
      if (typeof c.e == 'string' && c.e.length <= 64) ep = c.e;
    }
  } catch (e) {}
  // never read back: a host that overwrites it breaks only its own calls
  try { window.SupportChat = api } catch (e) {}
  label();
  (qs('body') || qs(':root')).append(host);
  emit('ready', {});
  connect();
})();
