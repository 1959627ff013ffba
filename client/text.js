// How a message's text is shown, the same in the widget (bundled at build) and the inbox (served at /client/text.js): without bidirectional controls, links made clickable as DOM nodes (never HTML strings), days for the separators.

/** Bidirectional controls (embeddings, overrides, isolates, LRM/RLM/ALM): a message or name could use
 *  them to read as something else ("invoice\u202Efdp.exe"), so they are never shown. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Text from a visitor or an agent as shown: without bidirectional controls. */
export const withoutBidiControls = (text) => String(text ?? '').replace(BIDI_CONTROLS, '');

/** The schemes a link may have; anything else (javascript:, data:, file:…) stays text. */
const LINK_SCHEMES = ['http:', 'https:', 'mailto:'];
/** A candidate link: an explicit http(s):// or mailto:, or a bare www. address, up to the next space
 *  or quote-like character; or a bare e-mail address (linked as mailto:). */
const LINK_CANDIDATE = /\b(?:https?:\/\/|mailto:|www\.)[^\s<>"'`]+|\b[\w.%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi;
/** Punctuation that ends a sentence rather than the link ("see https://x.example/a."). */
const TRAILING = /[.,;:!?)\]}]+$/;

/**
 * `text` cut into parts: plain strings and { text, href } for each link whose scheme is http, https
 * or mailto and that parses as a URL (www.… is https, a bare address mailto). A closing bracket
 * stays in the link only if it opened there.
 */
export function linkParts(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(LINK_CANDIDATE)) {
    let candidate = match[0];
    let trail = TRAILING.exec(candidate)?.[0] ?? '';
    // keep a ")" the link itself opened (https://en.wikipedia.org/wiki/Foo_(bar))
    while (trail.startsWith(')') && count(candidate.slice(0, -trail.length), '(') > count(candidate.slice(0, -trail.length), ')')) {
      trail = trail.slice(1);
    }
    candidate = candidate.slice(0, candidate.length - trail.length);
    const href = safeHref(/^www\./i.test(candidate) ? 'https://' + candidate
      : /^(?:https?:|mailto:)/i.test(candidate) ? candidate : 'mailto:' + candidate);
    if (!href) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({ text: candidate, href });
    last = match.index + candidate.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

const count = (s, c) => s.split(c).length - 1;

/** The href of `candidate` if it is an http(s) link with a host or a mailto with an address; else null. */
function safeHref(candidate) {
  let url;
  try { url = new URL(candidate); } catch { return null; }
  if (!LINK_SCHEMES.includes(url.protocol)) return null;
  if (url.protocol === 'mailto:' ? url.pathname.length < 3 : !url.hostname) return null;
  return url.href;
}

/**
 * Appends `text` (bidi controls already removed) to `node`: text nodes, and for each link an <a>
 * made by `createElement` (the widget passes one a host page cannot clobber) that opens in a new tab
 * and tells the linked site nothing: rel="noopener noreferrer nofollow", target=_blank.
 */
export function appendWithLinks(node, text, createElement) {
  for (const part of linkParts(text)) {
    if (typeof part === 'string') { node.append(part); continue; }
    const link = createElement('a');
    link.href = part.href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer nofollow';
    link.textContent = part.text;
    node.append(link);
  }
  return node;
}

/** Local midnight of `at` (ms): messages with the same one go under one day separator. */
export const dayStart = (at) => { const d = new Date(at); d.setHours(0, 0, 0, 0); return d.getTime(); };

/** "Today", "Yesterday", or the date (local time) of `at`. */
export function dayLabel(at, now = Date.now()) {
  const days = Math.round((dayStart(now) - dayStart(at)) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return new Date(at).toLocaleDateString([], { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}
