// The "About this visitor" panel beside the open conversation: the page they are on (a link node), where they came from, their language and local time (from their time zone, kept current), browser and OS, country and city, the pages of this visit, first seen and visits, a verified customer's id and the attributes their page passed. Built once, updated in place; text only, never HTML.
import { el, plain } from './render.js';

const LINK_REL = 'noopener noreferrer nofollow';
const FACTS = [
  ['page', 'Page'], ['referrer', 'Came from'], ['local', 'Local time'], ['language', 'Language'],
  ['device', 'Browser'], ['place', 'Location'], ['seen', 'First seen'], ['visits', 'Visits'],
  ['verified', 'Verified id'], ['attributes', 'Attributes (sent by their page, not verified)'],
];
const httpUrl = (url) => typeof url === 'string' && /^https?:\/\//i.test(url);
const dateTime = (at) => new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });

/** A link to `url` that opens a new tab with no opener, showing `text` (or the URL). */
function link(url, text) {
  if (!httpUrl(url)) return document.createTextNode(plain(text || String(url || '')));
  const a = el('a', '', plain(text || url));
  a.href = url;
  a.target = '_blank';
  a.rel = LINK_REL;
  return a;
}

/** The visitor's local time in `zone` now, e.g. "Tue 23:04 (Europe/Berlin)"; '' if the zone is unknown here. */
export function localTime(zone, now = new Date()) {
  if (!zone) return '';
  try {
    const time = new Intl.DateTimeFormat([], { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(now);
    return `${time} (${zone})`;
  } catch {
    return '';
  }
}

/**
 * ui: { panel, empty, facts, pages, pagesTitle }; hooks: { send(frame) }.
 * Returns { show(userId, row), onContext(frame), onRow(row), clear() }.
 */
export function createContextPanel(ui, { send }) {
  let userId = null, context = null, verifiedId = null, zone = '';
  const values = new Map(); // fact -> what it shows now, so a repaint touches only what changed
  const dd = new Map();
  for (const [key, label] of FACTS) {
    const row = el('div', 'fact');
    row.dataset.fact = key;
    const value = el('dd');
    row.append(el('dt', '', label), value);
    row.hidden = true;
    ui.facts.append(row);
    dd.set(key, value);
  }
  let pageKeys = [];
  // beside the conversation on wide screens; folded to its summary line above it on narrower ones
  if (matchMedia('(max-width: 1099px)').matches) ui.panel.open = false;

  /** Sets fact `key` to `show` (a string, or [string, build()] for nodes); hidden when empty. */
  function fact(key, show, build) {
    const node = dd.get(key);
    if (values.get(key) === show) return;
    values.set(key, show);
    node.parentElement.hidden = !show;
    node.replaceChildren(...(show ? (build ? build() : [document.createTextNode(show)]) : []));
  }

  function paintTime() { fact('local', localTime(zone)); }
  setInterval(() => { if (zone) paintTime(); }, 15_000);

  function paintPages(pages) {
    const keys = pages.map((p) => `${p.at}|${p.url}`);
    // pages only grow at the end and drop from the start (or start over on a new visit): keep what stays
    const keep = new Set(keys);
    for (const item of [...ui.pages.children]) if (!keep.has(item.dataset.key)) item.remove();
    const shown = new Set([...ui.pages.children].map((item) => item.dataset.key));
    pages.forEach((p, i) => {
      if (shown.has(keys[i])) return;
      const item = el('li');
      item.dataset.key = keys[i];
      const when = el('time', 'page-at', new Date(p.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
      when.dateTime = new Date(p.at).toISOString();
      item.append(link(p.url, p.title), ' ', when);
      ui.pages.append(item);
    });
    pageKeys = keys;
    ui.pagesTitle.hidden = ui.pages.hidden = keys.length === 0;
  }

  function paint() {
    const c = context || {};
    const page = httpUrl(c.url) ? c.url : '';
    fact('page', page && `${c.title || ''}|${page}`, () => [link(page, c.title)]);
    fact('referrer', httpUrl(c.referrer) ? c.referrer : '', () => [link(c.referrer)]);
    zone = typeof c.timeZone === 'string' ? c.timeZone : '';
    paintTime();
    fact('language', typeof c.language === 'string' ? c.language : '');
    fact('device', [c.browser, c.os].filter((s) => typeof s === 'string').join(' on '));
    fact('place', [c.city, c.country].filter((s) => typeof s === 'string').join(', '));
    fact('seen', c.firstSeen > 0 ? dateTime(c.firstSeen) : '');
    fact('visits', c.visits > 0 ? `${c.visits}${c.visitStarted > 0 ? ', this one since ' + dateTime(c.visitStarted) : ''}` : '');
    fact('verified', typeof verifiedId === 'string' ? verifiedId + ' ✓ (verified by your site)' : '');
    const attributes = c.attributes && typeof c.attributes === 'object' ? Object.entries(c.attributes) : [];
    fact('attributes', attributes.length ? JSON.stringify(attributes) : '', () => {
      const list = el('ul', 'attributes');
      for (const [k, v] of attributes) list.append(el('li', '', plain(`${k}: ${v}`)));
      return [list];
    });
    if (Array.isArray(c.pages)) paintPages(c.pages);
    ui.empty.hidden = !!(page || c.visits > 0 || verifiedId);
  }

  return {
    /** A conversation opened: what its row knows now, then the whole context (with the visit's pages) asked of the desk. */
    show(id, row) {
      if (id !== userId) {
        userId = id;
        context = null;
        paintPages([]);
      }
      verifiedId = row?.verifiedId ?? null;
      if (row?.context) context = { ...context, ...row.context };
      ui.panel.hidden = false;
      paint();
      send({ type: 'context', userId: id });
    },
    /** A `context` frame: the whole context of one visitor (live, or the answer to `show`). */
    onContext(f) {
      if (f.userId !== userId) return;
      context = f;
      paint();
    },
    /** A row of the open conversation (its `context`, when it has one, leaves out the pages). */
    onRow(row) {
      if (row?.userId !== userId) return;
      verifiedId = row.verifiedId ?? null;
      if (row.context) context = { ...context, ...row.context, pages: context?.pages };
      paint();
    },
    clear() {
      userId = null;
      context = null;
      verifiedId = null;
      paintPages([]);
      values.clear();
      for (const node of dd.values()) { node.replaceChildren(); node.parentElement.hidden = true; }
      zone = '';
      ui.panel.hidden = true;
    },
    get pageCount() { return pageKeys.length; },
  };
}
