// The embeddable visitor widget's loader, the served /widget.js: one <script data-desk> tag; a Shadow-DOM launcher, the public window.SupportChat, and the decision when to load the chat (widget/chat.js, served as /widget-chat.js next to this file) and connect. No framework; `make assets` bundles and minifies both files (esbuild).
import { load } from './storage.js';
import { isCrawler, recentConversation } from './lazy.js';
import STYLES from './launcher.css';

// The closed widget's constant markup: the launcher and its badge (the chat adds the panel).
const LAUNCHER = '<button class="launcher" type="button" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg><span class="badge" aria-hidden="true" hidden></span></button><p class="fail" role="alert" hidden></p>';
const FAILED = 'The chat could not load. Check your connection, then press the chat button again.';

(() => {
  // Host markup can shadow globals and document members (<a id="SupportChat">, <img name="currentScript">):
  // read the DOM through its prototypes, never read the global back, mark this copy with a symbol
  // (the chat, once loaded, hands itself over through the same symbol: no second global).
  const doc = document;
  const DocumentProto = Document.prototype;
  const EventTargetProto = EventTarget.prototype;
  const LOADED = Symbol.for('support-desk.widget');
  if (window[LOADED]) return;
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

  // ---- DOM: the launcher in an open shadow root (no data ever goes through innerHTML) ----
  const host = createElement('support-chat');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = LAUNCHER;
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
  const launcher = root.querySelector('.launcher');
  const failNote = root.querySelector('.fail');
  launcher.setAttribute('aria-label', 'Open support chat');

  const listeners = {};
  const emit = (type, detail) => {
    for (const listener of listeners[type] || []) {
      try { listener(detail); } catch (error) { setTimeout(() => { throw error; }); }
    }
    EventTargetProto.dispatchEvent.call(window, new CustomEvent('supportchat:' + type, { detail }));
  };

  // ---- the chat: loaded once needed, from next to this script (a failure is said, and retried on the next open) ----
  let chat = null, loading = false, wantOpen = false, identity, muted = false;
  const crawler = isCrawler(navigator.userAgent);
  const ctx = {
    doc, querySelector, createElement, documentGetter, pageHidden, listen, options, desk, origin, root, launcher,
    badge: root.querySelector('.badge'), emit, muted: () => muted,
  };
  window[LOADED] = (startChat) => {
    if (chat || !loading) return;
    loading = false;
    chat = startChat(ctx);
    if (identity !== undefined) chat.identify(identity);
    else chat.connect();
    if (wantOpen) chat.setOpen(true);
  };
  const start = () => {
    if (chat || loading || crawler) return;
    loading = true;
    failNote.hidden = true;
    const tag = createElement('script');
    tag.src = new URL('widget-chat.js', origin).href;
    tag.async = true;
    // the chat hands itself over while its script runs, before 'load': without it, the load failed
    const done = () => {
      tag.remove();
      if (chat) return;
      loading = false;
      if (wantOpen) { failNote.textContent = FAILED; failNote.hidden = false; }
      wantOpen = false;
    };
    listen(tag, 'error', done);
    listen(tag, 'load', done);
    (querySelector('head') || querySelector(':root')).append(tag);
  };
  const setOpen = (open) => {
    if (chat) return chat.setOpen(open);
    wantOpen = open;
    if (open) start();
  };
  launcher.addEventListener('click', () => setOpen(!(chat ? chat.isOpen : wantOpen)));

  const api = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!(chat ? chat.isOpen : wantOpen)),
    on: (type, listener) => {
      (listeners[type] = listeners[type] || []).push(listener);
      return () => { listeners[type] = listeners[type].filter((other) => other != listener); };
    },
    // no sound from now on (true, or no argument), or again (false); data-sound="off" is for good
    mute: (on) => { muted = on !== false; },
    get isOpen() { return chat ? chat.isOpen : false; },
    get unread() { return chat ? chat.unread : 0; },
    // 'idle': nothing loaded, nothing connected (lazy); 'connecting' while the chat loads to connect
    get state() { return chat ? chat.state : loading ? 'connecting' : 'idle'; },
    get messages() { return chat ? chat.messages : []; },
    // a single-page host logs a customer in ({userId, userHash}) or out (null): another conversation
    identify: (user) => {
      if (chat) return chat.identify(user);
      identity = user;
      start();
    },
  };
  // never read back: a host that overwrites it breaks only its own calls
  try { window.SupportChat = api; } catch { /* a host made it read-only */ }
  (querySelector('body') || querySelector(':root')).append(host);
  emit('ready', {});
  // A first page view stays closed and quiet; a browser holding a recent conversation connects at
  // once, so replies arrive while the visitor browses (widget/lazy.js).
  const tokenKey = 'supportchat:' + origin.host + ':' + desk + (options.userId ? ':verified' : '');
  // A follow-up email links back to the page with #support-chat: the conversation opens.
  if (location.hash == '#support-chat') setOpen(true);
  else if (recentConversation(load, tokenKey, Date.now())) start();
})();
