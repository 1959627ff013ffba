// The sidebar as server-side views: tabs with counts (`list.counts`), pages by `cursor` loaded as the list is scrolled, live `user` rows moved/inserted/removed one at a time, and search results.
import { el, drawRow } from './render.js';

export const VIEWS = [['open', 'Open'], ['mine', 'Mine'], ['unassigned', 'Unassigned'], ['snoozed', 'Snoozed'], ['resolved', 'Resolved'], ['blocked', 'Blocked']];
/** Views only owners and admins have. */
const MODERATOR_VIEWS = new Set(['blocked']);
const PAGE = 50;

/** Whether `row` belongs to `view` (the server's rule; a row without status is open). */
export function belongs(view, row, me) {
  const status = row.status || 'open';
  switch (view) {
    case 'open': return status === 'open';
    case 'mine': return status === 'open' && !!me && row.assigneeId === me.agentId;
    case 'unassigned': return status === 'open' && !row.assigneeId;
    case 'snoozed': return status === 'snoozed';
    case 'resolved': return status === 'resolved';
    case 'blocked': return status === 'blocked';
    default: return status !== 'blocked';
  }
}

/** Whether `a` had its latest activity before `b`: by the latest message's `seq` when the desk
 *  sends it (its own order), else by `lastAt`. Equal is not before (ties keep the desk's order). */
export function before(a, b) {
  if (Number.isSafeInteger(a.lastSeq) && Number.isSafeInteger(b.lastSeq)) return a.lastSeq < b.lastSeq;
  return (a.lastAt || 0) < (b.lastAt || 0);
}
const sameActivity = (a, b) => !before(a, b) && !before(b, a);

/**
 * ui: { tabs, nav, list, results, more, empty, search }; send(frame) -> bool;
 * ctx() -> { selected, me }; onPick(userId) when a row is clicked.
 */
export function createViews(ui, { send, ctx, onPick }) {
  let view = 'open', counts = {}, cursor, loading = false, query = '', searchTimer = 0, countsTimer = 0, moderator = false;
  const shown = new Map(); // userId -> { row, li } in the current view
  let order = []; // userIds as displayed
  const found = new Map(); // userId -> { row, li, snippet } of the search results
  const asked = []; // the `list` requests not answered yet, in order: { kind: 'reset'|'page'|'counts', view }

  const tabs = new Map(VIEWS.map(([id, label]) => {
    const b = el('button', 'tab');
    b.type = 'button';
    b.setAttribute('role', 'tab');
    b.id = 'tab-' + id;
    const count = el('span', 'count');
    b.append(el('span', '', label), ' ', count);
    b.addEventListener('click', () => show(id));
    b.hidden = MODERATOR_VIEWS.has(id);
    ui.tabs.append(b);
    return [id, { b, count }];
  }));
  ui.tabs.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const mine = VIEWS.filter(([id]) => moderator || !MODERATOR_VIEWS.has(id));
    const i = mine.findIndex(([id]) => id === view) + (e.key === 'ArrowRight' ? 1 : -1);
    const next = mine[(i + mine.length) % mine.length][0];
    show(next);
    tabs.get(next).b.focus();
  });

  const draw = (row, li, snippet) => drawRow(li, row, { ...ctx(), snippet, terms: query.split(/\s+/), onPick });
  function paintTabs() {
    for (const [id, { b, count }] of tabs) {
      const on = id === view;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      count.textContent = Number.isSafeInteger(counts[id]) ? String(counts[id]) : '';
    }
  }
  function paintFooter() {
    const searching = query !== '';
    ui.list.hidden = searching;
    ui.results.hidden = !searching;
    ui.more.hidden = searching || cursor === undefined;
    ui.more.textContent = loading ? 'Loading more…' : 'Scroll down for more';
    ui.empty.hidden = searching ? found.size > 0 : order.length > 0 || cursor !== undefined || loading;
    ui.empty.textContent = searching ? 'No conversation matches.' : 'No conversations here.';
  }
  function request(kind, extra = {}) {
    const frame = { type: 'list', view, limit: PAGE, ...extra };
    if (!send(frame)) return false;
    asked.push({ kind, view });
    return true;
  }

  /** Shows `id`'s first page; `keep`: the list shown stays until it arrives (a reconnect), else it is cleared at once (another view). */
  function show(id, keep) {
    if (!keep || id !== view) clearList();
    view = id;
    paintTabs();
    loading = true;
    request('reset');
    paintFooter();
  }

  function clearList() {
    shown.clear();
    order = [];
    ui.list.replaceChildren();
  }
  function place(row, li) {
    // newest activity first; equal times keep the order the desk gave (a new one goes after them)
    let i = order.findIndex((id) => before(shown.get(id).row, row));
    if (i < 0) {
      if (cursor !== undefined) return false; // older than everything loaded: it comes with a later page
      i = order.length;
    }
    const refocus = li.contains(document.activeElement) && document.activeElement;
    order.splice(i, 0, row.userId);
    ui.list.insertBefore(li, i + 1 < order.length ? shown.get(order[i + 1])?.li ?? null : null);
    if (refocus) refocus.focus();
    return true;
  }
  function insert(row) {
    const li = draw(row);
    shown.set(row.userId, { row, li });
    if (!place(row, li)) shown.delete(row.userId);
  }
  function remove(userId) {
    const item = shown.get(userId);
    if (!item) return;
    item.li.remove();
    shown.delete(userId);
    order = order.filter((id) => id !== userId);
  }

  function nearEnd() {
    const n = ui.nav;
    if (!n.clientHeight) return false; // not on screen (narrow layout showing a conversation)
    return n.scrollHeight - n.scrollTop - n.clientHeight < 240;
  }
  function maybeMore() {
    if (query || loading || cursor === undefined || !nearEnd()) return;
    loading = request('page', { cursor });
    paintFooter();
  }
  ui.nav.addEventListener('scroll', maybeMore, { passive: true });
  addEventListener('resize', maybeMore);

  // The tab counts are asked again 250 ms after a row changed view; changes within that time share
  // the request (a flood of new conversations asks at most 4 times a second, and never starves it).
  function refreshCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(() => { countsTimer = 0; request('counts', { limit: 1 }); }, 250);
  }

  function runSearch() {
    clearTimeout(searchTimer);
    const q = ui.search.value.trim();
    if (q === query) return;
    query = q;
    if (!q) {
      found.clear();
      ui.results.replaceChildren();
      paintFooter();
      return;
    }
    searchTimer = setTimeout(() => send({ type: 'search', query: q, limit: 20 }), 200);
    paintFooter();
  }
  ui.search.addEventListener('input', runSearch);
  ui.search.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    ui.search.value = '';
    runSearch();
  });

  return {
    get view() { return view; },
    get searching() { return query !== ''; },
    /** A fresh socket: its answers to earlier requests are lost; ask again. */
    connected() {
      asked.length = 0;
      loading = false;
      show(view, true);
      if (query) send({ type: 'search', query, limit: 20 });
    },
    onList(f) {
      const req = asked.shift() || { kind: 'reset', view: f.view };
      if (f.counts && typeof f.counts === 'object') counts = f.counts;
      paintTabs();
      if (req.kind === 'counts' || req.view !== view || f.view !== undefined && f.view !== view) return;
      const rows = (f.users || []).filter((r) => r && r.userId);
      if (req.kind === 'reset') clearList();
      cursor = typeof f.cursor === 'string' || typeof f.cursor === 'number' ? f.cursor : undefined;
      loading = false;
      for (const row of rows) {
        const item = shown.get(row.userId);
        if (item) { item.row = row; draw(row, item.li); continue; }
        const li = draw(row);
        shown.set(row.userId, { row, li });
        order.push(row.userId);
        ui.list.append(li);
      }
      paintFooter();
      maybeMore();
    },
    /** A live row: update, move, insert or remove the one item it concerns; counts follow. */
    onUser(row, old) {
      const { me } = ctx();
      const item = shown.get(row.userId);
      const inView = belongs(view, row, me);
      if (item && !inView) remove(row.userId);
      else if (item) {
        const moved = !sameActivity(row, item.row);
        item.row = row;
        draw(row, item.li);
        if (moved) {
          order = order.filter((id) => id !== row.userId);
          if (!place(row, item.li)) remove(row.userId);
        }
      } else if (inView) insert(row);
      const hit = found.get(row.userId);
      if (hit) { hit.row = row; draw(row, hit.li, hit.snippet); }
      if (!old || old.status !== row.status || old.assigneeId !== row.assigneeId) refreshCounts();
      paintFooter();
    },
    onSearch(f) {
      if (f.query !== query) return; // an answer to an earlier query
      found.clear();
      const items = [];
      for (const r of f.results || []) {
        const row = r.user || { userId: r.userId };
        if (!row.userId || found.has(row.userId)) continue;
        const snippet = r.seq ? String(r.snippet ?? '') : undefined; // seq 0: the name matched (shown anyway)
        const li = draw(row, undefined, snippet);
        found.set(row.userId, { row, li, snippet });
        items.push(li);
      }
      ui.results.replaceChildren(...items);
      paintFooter();
    },
    /** Repaints the rows of these userIds (selection changed, `me` changed). */
    repaint(...ids) {
      for (const id of ids) {
        const a = shown.get(id);
        if (a) draw(a.row, a.li);
        const b = found.get(id);
        if (b) draw(b.row, b.li, b.snippet);
      }
    },
    /** The userId `delta` rows away from `from` in what the sidebar shows (results while searching). */
    neighbor(from, delta) {
      const ids = query ? [...found.keys()] : order;
      if (!ids.length) return null;
      const i = ids.indexOf(from);
      return ids[i < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, i + delta))];
    },
    rowEl(id) { return (query ? found : shown).get(id)?.li.firstChild ?? null; },
    /** A conversation was deleted: its row goes from the list and the results; counts follow. */
    onRemoved(userId) {
      remove(userId);
      found.get(userId)?.li.remove();
      found.delete(userId);
      refreshCounts();
      paintFooter();
    },
    /** Owners and admins get the Blocked tab; others go back to Open if they were on it. */
    setModerator(on) {
      moderator = on;
      for (const id of MODERATOR_VIEWS) tabs.get(id).b.hidden = !on;
      if (!on && MODERATOR_VIEWS.has(view)) show('open');
    },
    reset() { clearList(); found.clear(); ui.results.replaceChildren(); counts = {}; cursor = undefined; asked.length = 0; paintTabs(); paintFooter(); },
  };
}
