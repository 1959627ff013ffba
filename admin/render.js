// The inbox's DOM pieces: one sidebar row, one message (reply, visitor, note, event; links as <a> nodes), day separators; always through textContent and DOM nodes (never markup from data).
import { appendWithLinks, dayLabel, dayStart, withoutBidiControls } from '../client/text.js';
import { SEEN_LABEL, sendStateLabel } from '../client/protocol.js';
import { attachmentNode } from '../client/upload.js';

let urls = null;
/** The signed-URL cache messages with a file use (client/upload.js, set by admin.js). */
export function useAttachmentUrls(cache) { urls = cache; }

export { dayLabel };

/** `document.createElement` with a class and optional text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text from a visitor or an agent as shown: without bidirectional controls (client/text.js). */
export const plain = withoutBidiControls;

/** An element holding text from someone else: its direction isolated from what is around it
 *  (dir=auto, so an Arabic or Hebrew text reads right and cannot reorder the name or time beside it). */
export function isolated(tag, className, text) {
  const node = el(tag, className, plain(text));
  node.dir = 'auto';
  return node;
}

/** "now", "5 min", "3 h", "2 d", or a date for older activity. */
export function relativeTime(at, now = Date.now()) {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 45) return 'now';
  if (s < 3600) return Math.round(s / 60) + ' min';
  if (s < 86400) return Math.round(s / 3600) + ' h';
  if (s < 7 * 86400) return Math.round(s / 86400) + ' d';
  return new Date(at).toLocaleDateString();
}

const clock = (at) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** A message's text as a paragraph: direction isolated (dir=auto), without bidi controls, its http(s)
 *  and mailto links clickable <a> nodes that open a new tab. */
function messageText(className, text) {
  const p = el('p', className);
  p.dir = 'auto';
  return appendWithLinks(p, plain(text), (tag) => document.createElement(tag));
}

const STATUS = { snoozed: 'snoozed', resolved: 'resolved' };

/** Whether a reply or note was written by the signed-in agent (an unsent one always is). */
export const isOwn = (m, me) => m.st !== undefined || (!!me && m.agentId !== undefined && m.agentId === me.agentId);

/**
 * The preview's author prefix: the visitor writes plainly; a reply names its agent ("You" only for
 * one's own). Rows do not say who wrote the latest reply: `author` is what this page saw of it
 * ({seq, agentId, agentName}, kept when its seq is the row's lastSeq), else it reads "Agent".
 */
function previewPrefix(row, me, author) {
  if (row.lastSender !== 'admin') return '';
  const by = row.lastAgentId !== undefined ? { agentId: row.lastAgentId, agentName: row.lastAgentName }
    : author && author.seq === row.lastSeq ? author : null;
  if (by && me && by.agentId === me.agentId) return 'You: ';
  return (by?.agentName || 'Agent') + ': ';
}

/** Appends `text` to `node`, the words starting with one of `terms` wrapped in <mark> (all as text nodes). */
export function highlight(node, text, terms) {
  const words = terms.map((t) => t.toLowerCase()).filter(Boolean);
  if (!words.length) { node.append(text); return node; }
  for (const part of text.split(/([\p{L}\p{N}_]+)/u)) {
    const lower = part.toLowerCase();
    node.append(words.some((w) => lower.startsWith(w)) ? el('mark', '', part) : part);
  }
  return node;
}

/**
 * Fills `li` (a sidebar item, created when missing) with `row`; the button inside carries data-user.
 * `snippet` replaces the preview (search results, its words matching `terms` marked). onPick(userId) runs on click.
 */
export function drawRow(li, row, { selected, me, author, snippet, terms = [], onPick }) {
  li = li || el('li');
  let b = li.firstChild;
  if (!b) {
    b = el('button', 'user');
    b.type = 'button';
    b.dataset.user = row.userId;
    b.addEventListener('click', () => onPick(b.dataset.user));
    li.append(b);
  }
  const isSel = row.userId === selected;
  b.classList.toggle('selected', isSel);
  if (isSel) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  // The button's name is its content, read in order: "Ana, verified, online, snoozed, assigned to Bo,
  // 2 unread: the preview". What the eye gets from the name, a dot, a mark or a badge is one visually
  // hidden line before the preview; the visible name, marks, time and tags are hidden from the name
  // (no aria-label that could say something other than what is shown).
  const name = row.name || 'Visitor';
  const top = el('span', 'row-top');
  const dot = hiddenFromName(el('span', 'dot' + (row.online ? ' online' : '')));
  dot.title = row.online ? 'online' : 'offline';
  const who = el('span', 'who');
  const spoken = plain(name) + (row.verifiedId ? ', verified' : '') + (row.online ? ', online' : '') +
    (STATUS[row.status] ? ', ' + STATUS[row.status] : '') + (row.assigneeName ? ', assigned to ' + plain(row.assigneeName) : '') +
    (row.unread > 0 ? `, ${row.unread} unread` : '') + ': ';
  who.append(hiddenFromName(isolated('span', 'name', name)));
  // the host site vouched for this customer (verified identity): show whose account it is
  if (row.verifiedId) {
    const mark = hiddenFromName(el('span', 'verified', '✓'));
    mark.title = `verified by your site: ${row.verifiedId}`;
    who.append(' ', mark);
  }
  const time = hiddenFromName(el('time', 'when', row.lastAt ? relativeTime(row.lastAt) : ''));
  if (row.lastAt) {
    time.dateTime = new Date(row.lastAt).toISOString();
    time.dataset.at = row.lastAt;
  }
  top.append(el('span', 'vh', spoken), dot, who, time);
  const bottom = el('span', 'row-bottom');
  const text = snippet ?? previewPrefix(row, me, author?.(row.userId)) + (row.lastMessage || '');
  const preview = snippet === undefined ? isolated('span', 'preview', text) : highlight(el('span', 'preview snippet'), plain(text), terms);
  preview.dir = 'auto';
  bottom.append(preview);
  if (STATUS[row.status]) {
    const tag = hiddenFromName(el('span', 'tag tag-' + row.status, row.status === 'snoozed' ? 'Snoozed' : 'Resolved'));
    if (row.snoozedUntil) tag.title = 'until ' + new Date(row.snoozedUntil).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    bottom.append(tag);
  }
  if (row.assigneeName) {
    const assignee = hiddenFromName(el('span', 'assignee', initials(row.assigneeName)));
    assignee.title = 'Assigned to ' + row.assigneeName;
    bottom.append(assignee);
  }
  if (row.unread > 0) bottom.append(hiddenFromName(el('span', 'badge', String(row.unread))));
  b.removeAttribute('aria-label');
  b.replaceChildren(top, bottom);
  return li;
}

/** A visible part whose meaning the row's name already says in words. */
function hiddenFromName(node) {
  node.setAttribute('aria-hidden', 'true');
  return node;
}

const initials = (name) => name.trim().split(/\s+/).slice(0, 2).map((w) => [...w][0] || '').join('').toUpperCase() || '?';

/** Refreshes the relative times in place (called on a timer). */
export function refreshTimes(list) {
  for (const t of list.querySelectorAll('time[data-at]')) t.textContent = relativeTime(Number(t.dataset.at));
}

/**
 * Creates or refreshes a message's <li> (kept as m.el): replies on the right (named by agent, "You"
 * for one's own), the visitor's on the left, notes as yellow bubbles, events as centred lines.
 */
export function drawMessage(m, me) {
  if (!m.el) m.el = el('li');
  m.el.dataset.day = dayStart(m.at);
  if (m.sender === 'event') {
    m.el.className = 'msg event';
    m.el.replaceChildren(isolated('p', 'event-text', m.message), el('small', 'meta', clock(m.at)));
    return m.el;
  }
  const own = (m.sender === 'admin' || m.sender === 'note') && isOwn(m, me);
  // the latest reply the visitor has seen reads "Seen" (whoever wrote it), one's own others their send state
  const status = m.seen ? ' · ' + SEEN_LABEL : own ? ' · ' + sendStateLabel(m.st) : '';
  if (m.sender === 'note') {
    m.el.className = 'msg note';
    m.el.replaceChildren(
      el('small', 'note-label', 'Note · ' + plain(m.agentName || (own && me?.name) || 'Agent')),
      messageText('text', m.message),
      el('small', 'meta', clock(m.at) + status),
    );
    return m.el;
  }
  const admin = m.sender === 'admin';
  m.el.className = admin ? 'msg admin' + (own ? ' own' : '') : 'msg visitor';
  const who = admin ? (own ? 'You' : m.agentName || 'Support') : 'Visitor';
  // a file: its thumbnail or download link, never its name as markup
  const body = m.attachment && urls ? el('p', 'text') : messageText('text', m.message);
  if (m.attachment && urls) body.append(attachmentNode(m.attachment, (tag) => document.createElement(tag), urls, location.href));
  m.el.replaceChildren(body, el('small', 'meta', plain(who) + ' · ' + clock(m.at) + status));
  return m.el;
}

/** A day's separator: a list item (the log is a list) holding a labelled separator. */
function daySeparator(at) {
  const li = el('li', 'day');
  const line = el('span', '', dayLabel(at));
  line.setAttribute('role', 'separator');
  line.setAttribute('aria-label', dayLabel(at));
  li.append(line);
  li.dataset.day = dayStart(at);
  return li;
}

/** Re-renders the whole conversation (a load, not live traffic), with day separators; scrolls to the end when `stick`. */
export function renderConversation(log, messages, stick, me) {
  const region = log.closest('[role="log"]') || log; // the live region around the list
  region.setAttribute('aria-busy', 'true');
  const items = [];
  let day = null;
  for (const m of messages) {
    const d = dayStart(m.at);
    if (d !== day) items.push(daySeparator(m.at));
    day = d;
    items.push(drawMessage(m, me));
  }
  log.replaceChildren(...items);
  region.removeAttribute('aria-busy');
  if (stick) log.scrollTop = log.scrollHeight;
}

/** Appends one live message (announced by the log), with a separator when a new day starts; keeps the view at the end if it was there. */
export function appendMessage(log, m, me) {
  const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const last = log.lastElementChild;
  if (!last || Number(last.dataset.day) !== dayStart(m.at)) log.append(daySeparator(m.at));
  log.append(drawMessage(m, me));
  if (stick) log.scrollTop = log.scrollHeight;
}
