// The widget's "who and where" (docs/widget.md): the page a visitor is on, reported on connect and after every navigation.
// Single-page apps are followed without patching history: popstate, hashchange, the Navigation API's
// currententrychange where there is one, and a cheap look at the URL on focus, visibility and clicks
// elsewhere. Reports wait a moment, so the new page's title is in; a page already reported is not sent again.
import { contextFrame } from '../client/protocol.js';

/**
 * Starts following the page. `send(text)` returns whether the frame went out (false while not connected);
 * `attributes()` is what a verified customer's page passed to identify. Returns `report()` (send the page now,
 * unless it was the last one sent) and `forget()` (a new socket: the next report goes out whatever it is).
 */
export function followPages({ listen, win, doc, documentGetter, send, attributes }) {
  let reported = '', timer = 0;
  const report = () => {
    let timeZone;
    try { timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { /* unknown */ }
    const frame = JSON.stringify(contextFrame({
      url: win.location.href, title: documentGetter('title'), referrer: documentGetter('referrer'),
      language: win.navigator.language, timeZone, attributes: attributes(),
    }));
    if (frame != reported && send(frame)) reported = frame;
  };
  const mayHaveChanged = () => { clearTimeout(timer); timer = setTimeout(report, 300); };
  for (const type of ['popstate', 'hashchange', 'focus']) listen(win, type, mayHaveChanged);
  for (const type of ['visibilitychange', 'click']) listen(doc, type, mayHaveChanged);
  const navigation = win.navigation;
  if (navigation instanceof EventTarget) listen(navigation, 'currententrychange', mayHaveChanged);
  return { report, forget: () => { reported = ''; } };
}
