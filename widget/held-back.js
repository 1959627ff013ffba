// Someone new held back by the desk's network limits (docs/protocol.md, held back): how long, asked over HTTP (a browser cannot read a refused upgrade's 429), and the words the panel shows.

/** Asks the desk whether new visitors from this network are held back: the ms to wait (429 + retryAfterMs), else 0. */
export const heldBackFor = (visitorPath) => fetch(visitorPath + '/check', { method: 'POST', body: '{}', cache: 'no-store' })
  .then((r) => (r.status == 429 ? r.json().then((b) => Number(b.retryAfterMs) || 0, () => 0) : 0), () => 0);

/** What the panel says while held back for `ms`, until `at` (shown with `clock`). */
export function heldBackText(ms, at, clock) {
  const minutes = Math.ceil(ms / 60000);
  return 'Many people are starting chats from your network right now, so we are holding new chats back for a moment. ' +
    'We will connect you automatically ' +
    (ms < 60000 ? 'in about ' + Math.ceil(ms / 1000) + ' seconds' : 'in about ' + minutes + ' minute' + (minutes > 1 ? 's' : '')) +
    ' (at ' + clock(at) + ').';
}
