// Hostile-input corpus, data only: requests that ask the desk for as much as it will send at once
// (the class "big answers"). Each is made against a conversation of 300 worst-case 4,000-character
// messages; whatever the answer, no frame may be over the budget (docs/protocol.md, "Bounded
// answers"), and a page cut by bytes must say so.
//
// `ask` is a frame (a function of the context `{ V, since }`: V the visitor of the heavy
// conversation, `since` a seq near its end) sent on `as` (the visitor's socket or the admin's),
// answered by a frame of type `answer`. `connect` opens a socket instead (`visitor` with V's token,
// or `admin`) with the query `query(ctx)`; `first` is the type of its first frame.

/** The largest frame the desk may send, in bytes of UTF-8 JSON. */
export const MAX_SEND_BYTES = 256 * 1024;

/** 4,000 characters that take many bytes as JSON, in turns: astral emoji (4 bytes each, the
 *  most), characters JSON escapes (2 bytes each), and one searchable word of 4,000 Cyrillic
 *  letters (2 bytes each; a search snippet holds whole words, so it is as long). */
export const heavy = (i) => [
  '😀'.repeat(4000),
  '"'.repeat(2000) + '\n'.repeat(1000) + '\\'.repeat(1000),
  'ж'.repeat(4000),
][i % 3];

export const BIG_ASKS = [
  { name: 'visitor history, the largest limit', as: 'visitor', ask: { type: 'history', limit: 200 }, answer: 'history' },
  { name: 'visitor history, limit 2^32-1 (clamped)', as: 'visitor', ask: { type: 'history', limit: 4294967295 }, answer: 'history' },
  { name: 'visitor history before 2^53-1', as: 'visitor', ask: { type: 'history', before: 9007199254740991, limit: 200 }, answer: 'history' },
  { name: 'admin history of the heavy conversation', as: 'admin', ask: (c) => ({ type: 'history', userId: c.V.userId, limit: 200 }), answer: 'history' },
  { name: 'admin list, the largest page', as: 'admin', ask: { type: 'list', view: 'all', limit: 100 }, answer: 'list' },
  { name: 'admin search matching every heavy message', as: 'admin', ask: { type: 'search', query: 'жж', limit: 50 }, answer: 'search' },
  { name: 'visitor resume from since=0', connect: 'visitor', query: () => ({ since: 0 }), first: 'welcome' },
  { name: 'visitor resume from since=1', connect: 'visitor', query: () => ({ since: 1 }), first: 'welcome' },
  { name: 'visitor resume from near the end', connect: 'visitor', query: (c) => ({ since: c.since }), first: 'welcome' },
  { name: 'visitor fresh welcome', connect: 'visitor', query: () => ({}), first: 'welcome' },
  { name: 'admin resume from since=0', connect: 'admin', query: () => ({ since: 0 }), first: 'users' },
  { name: 'admin resume from near the end', connect: 'admin', query: (c) => ({ since: c.since }), first: 'users' },
];
