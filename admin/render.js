// The admin inbox's DOM rendering: sidebar rows and conversation messages, always through textContent (never markup from data).

/** `document.createElement` with a class and optional text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
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

/** Rows newest activity first. */
export function sortRows(rows) {
  return [...rows].sort((a, b) => (b.lastAt || 0) - (a.lastAt || 0));
}

/**
 * Re-renders the sidebar list from `rows` (already sorted). Keeps focus on the row that had it.
 * onPick(userId) is called when a row is clicked.
 */
export function renderUsers(list, rows, selected, onPick) {
  const focused = document.activeElement?.closest?.('[data-user]')?.dataset.user;
  const items = rows.map((row) => {
    const li = el('li');
    const b = el('button', 'user' + (row.userId === selected ? ' selected' : ''));
    b.type = 'button';
    b.dataset.user = row.userId;
    if (row.userId === selected) b.setAttribute('aria-current', 'true');
    const top = el('span', 'row-top');
    const dot = el('span', 'dot' + (row.online ? ' online' : ''));
    dot.title = row.online ? 'online' : 'offline';
    const name = el('span', 'name', row.name || 'Visitor');
    // the host site vouched for this customer (verified identity): show whose account it is
    if (row.verifiedId) {
      const mark = el('span', 'verified', '✓');
      mark.title = `verified by your site: ${row.verifiedId}`;
      mark.setAttribute('aria-hidden', 'true');
      name.append(' ', mark);
    }
    const time = el('time', 'when', row.lastAt ? relativeTime(row.lastAt) : '');
    if (row.lastAt) {
      time.dateTime = new Date(row.lastAt).toISOString();
      time.dataset.at = row.lastAt;
    }
    top.append(dot, name, time);
    const bottom = el('span', 'row-bottom');
    const preview = el('span', 'preview', (row.lastSender === 'admin' ? 'You: ' : '') + (row.lastMessage || ''));
    bottom.append(preview);
    if (row.unread > 0) bottom.append(el('span', 'badge', String(row.unread)));
    // a spoken summary; the visible parts stay as they are
    b.setAttribute('aria-label', `${row.name || 'Visitor'}${row.verifiedId ? ', verified' : ''}${row.online ? ', online' : ''}` +
      `${row.unread > 0 ? `, ${row.unread} unread` : ''}: ${row.lastMessage || ''}`);
    b.append(top, bottom);
    b.addEventListener('click', () => onPick(row.userId));
    li.append(b);
    return li;
  });
  list.replaceChildren(...items);
  if (focused) list.querySelector(`[data-user="${CSS.escape(focused)}"]`)?.focus();
}

/** Refreshes the relative times in place (called on a timer). */
export function refreshTimes(list) {
  for (const t of list.querySelectorAll('time[data-at]')) t.textContent = relativeTime(Number(t.dataset.at));
}

/** Creates or refreshes a message's <li> (kept as m.el): the desk's replies on the right, the visitor's on the left. */
export function drawMessage(m) {
  if (!m.el) m.el = el('li', '', undefined);
  m.el.className = m.sender === 'admin' ? 'msg admin' : 'msg visitor';
  const status = m.sender === 'admin' ? ' · ' + ({ sending: 'sending…', failed: 'not sent' }[m.st] || 'sent') : '';
  m.el.replaceChildren(
    el('p', 'text', m.message),
    el('small', 'meta', (m.sender === 'admin' ? 'Support' : 'Visitor') + ' · ' + clock(m.at) + status),
  );
  return m.el;
}

/** Re-renders the whole conversation (a load, not live traffic); scrolls to the end when `stick`. */
export function renderConversation(log, messages, stick) {
  log.setAttribute('aria-busy', 'true');
  log.replaceChildren(...messages.map(drawMessage));
  log.removeAttribute('aria-busy');
  if (stick) log.scrollTop = log.scrollHeight;
}

/** Appends one live message (announced by the log), keeping the view at the end if it was there. */
export function appendMessage(log, m) {
  const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(drawMessage(m));
  if (stick) log.scrollTop = log.scrollHeight;
}
