// The conversation header: who the visitor is (online or not), its status and assignee, and the actions on it: Resolve/Reopen, Snooze, Assign, Mark unread; for owners and admins Block/Unblock and Delete (each confirmed first).
import { el, isolated } from './render.js';

/** The snooze choices, in local time: in an hour, tomorrow 09:00, next Monday 09:00. */
export function snoozeUntil(choice, now = new Date()) {
  const d = new Date(now.getTime());
  if (choice === 'hour') return d.getTime() + 3600000;
  if (choice === 'tomorrow') d.setDate(d.getDate() + 1);
  else if (choice === 'monday') d.setDate(d.getDate() + (((8 - d.getDay()) % 7) || 7));
  else return null;
  d.setHours(9, 0, 0, 0);
  return d.getTime();
}

const when = (at) => new Date(at).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' });

/**
 * ui: { title, status, state, actions, resolve, snooze, assign, markUnread, block, del };
 * hooks: { send(frame), onMarkUnread(userId), confirm(question) -> bool }.
 * Returns { show(row|null), setAgents(agents), setModerator(bool) }.
 */
export function createActions(ui, { send, onMarkUnread, confirm }) {
  let row = null, agents = [], moderator = false;

  function fillAssign() {
    const options = [el('option', '', 'Unassigned')];
    options[0].value = '';
    const seen = new Set();
    for (const a of agents) {
      if (a.pending || !a.agentId) continue;
      const o = el('option', '', a.name || a.agentId);
      o.value = a.agentId;
      options.push(o);
      seen.add(a.agentId);
    }
    // an assignee the agent list has not shown yet (or no longer shows) still reads right
    if (row?.assigneeId && !seen.has(row.assigneeId)) {
      const o = el('option', '', row.assigneeName || row.assigneeId);
      o.value = row.assigneeId;
      options.push(o);
    }
    ui.assign.replaceChildren(...options);
    ui.assign.value = row?.assigneeId || '';
  }

  function show(r) {
    row = r;
    if (r) ui.title.replaceChildren(isolated('span', '', r.name || 'Visitor'));
    else ui.title.textContent = 'Select a conversation';
    // the same mark as the row's, wherever the name is: the host site vouched for this customer
    if (r?.verifiedId) {
      const mark = el('span', 'verified');
      mark.title = `verified by your site: ${r.verifiedId}`;
      const tick = el('span', '', '✓');
      tick.setAttribute('aria-hidden', 'true');
      mark.append(tick, ' verified');
      ui.title.append(' ', mark);
    }
    ui.status.textContent = r ? (r.online ? 'online' : 'offline') : '';
    ui.status.dataset.online = r?.online ? 'yes' : 'no';
    ui.actions.hidden = !r;
    if (!r) { ui.state.textContent = ''; return; }
    const status = r.status || 'open';
    const blocked = status === 'blocked';
    ui.state.dataset.status = status;
    ui.state.textContent = (status === 'resolved' ? 'Resolved' : status === 'snoozed'
      ? 'Snoozed' + (r.snoozedUntil ? ' until ' + when(r.snoozedUntil) : '') : blocked ? 'Blocked' : 'Open') +
      ' · ' + (r.assigneeName ? 'assigned to ' + r.assigneeName : 'unassigned');
    ui.resolve.textContent = status === 'open' ? 'Resolve' : blocked ? 'Unblock' : 'Reopen';
    ui.resolve.hidden = blocked && !moderator;
    ui.snooze.hidden = blocked;
    ui.block.hidden = blocked || !moderator;
    ui.del.hidden = !moderator;
    ui.snooze.value = '';
    fillAssign();
  }

  ui.resolve.addEventListener('click', () => {
    if (!row) return;
    send({ type: (row.status || 'open') === 'open' ? 'resolve' : 'reopen', userId: row.userId });
  });
  ui.snooze.addEventListener('change', () => {
    const until = snoozeUntil(ui.snooze.value);
    ui.snooze.value = '';
    if (row && until) send({ type: 'snooze', userId: row.userId, until });
  });
  ui.assign.addEventListener('change', () => {
    if (row) send({ type: 'assign', userId: row.userId, agentId: ui.assign.value || null });
  });
  ui.block.addEventListener('click', () => {
    if (row && confirm(`Block ${row.name || 'this visitor'}? They are disconnected and cannot write again until someone unblocks them.`)) {
      send({ type: 'block', userId: row.userId });
    }
  });
  ui.del.addEventListener('click', () => {
    if (row && confirm(`Delete the conversation with ${row.name || 'this visitor'}? Every message goes, for good.`)) {
      send({ type: 'delete', userId: row.userId });
    }
  });
  ui.markUnread.addEventListener('click', () => {
    if (!row) return;
    send({ type: 'unread', userId: row.userId });
    onMarkUnread(row.userId);
  });

  return {
    show,
    setAgents(list) {
      agents = Array.isArray(list) ? list : [];
      fillAssign();
    },
    /** Owners and admins may block and delete. */
    setModerator(on) {
      moderator = on;
      show(row);
    },
  };
}
