// Web Push for the inbox: with "Notify me" on, this browser subscribes through its service worker (admin/sw.js) with the desk's VAPID key and tells the desk (push_subscribe), so a closed inbox still rings; off, it unsubscribes.

/** The VAPID key as `applicationServerKey` wants it. */
const keyBytes = (b64u) => {
  const text = atob(b64u.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((b64u.length + 3) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
};
const sameKey = (a, b) => {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
};

/**
 * Wires push to the "Notify me" box: `state` says where it stands (an element with role=status),
 * `send(frame)` talks to the desk, `open(userId)` selects a conversation (a click on a notification).
 * Returns { connected(), onPush(frame), onError(frame) -> handled }.
 */
export function setupPush({ box, state, send, open }) {
  const supported = 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  let desk = null; // the last `push` frame: { enabled, publicKey, subscriptions }
  let busy = false;
  const say = (text) => { state.textContent = text; state.hidden = !text; };

  /** The worker registered and active (a subscription needs an active one). */
  async function registration() {
    await navigator.serviceWorker.register('/admin/sw.js', { scope: '/admin/' });
    return navigator.serviceWorker.ready;
  }

  async function subscribe() {
    if (!supported || !desk?.enabled || !box.checked || busy) return;
    if (Notification.permission === 'default') await Notification.requestPermission().catch(() => 'denied');
    if (Notification.permission !== 'granted') { say('Notifications are blocked in this browser.'); return; }
    busy = true;
    try {
      const reg = await registration();
      const key = keyBytes(desk.publicKey);
      let sub = await reg.pushManager.getSubscription();
      if (sub && !sameKey(sub.options?.applicationServerKey, key)) { await sub.unsubscribe(); sub = null; }
      sub = sub || await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      const { endpoint, keys } = sub.toJSON();
      send({ type: 'push_subscribe', endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
    } catch (err) {
      say('This browser could not subscribe to notifications: ' + (err?.message || err));
    } finally {
      busy = false;
    }
  }

  async function unsubscribe() {
    if (!supported) return;
    try {
      const reg = await navigator.serviceWorker.getRegistration('/admin/');
      const sub = await reg?.pushManager.getSubscription();
      if (!sub) return;
      send({ type: 'push_unsubscribe', endpoint: sub.endpoint });
      await sub.unsubscribe();
    } catch { /* nothing to undo */ }
  }

  box.addEventListener('change', () => { if (box.checked) subscribe(); else { unsubscribe(); say(''); } });
  if (supported) {
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data?.type === 'open' && typeof e.data.userId === 'string') open(e.data.userId);
    });
  }

  return {
    /** Signed in (again): ask whether the desk pushes. */
    connected() { send({ type: 'push' }); },
    onPush(f) {
      const first = desk === null;
      desk = f;
      if (!f.enabled) { say(box.checked ? 'Only while this tab is open: push is off on this desk (no VAPID keys).' : ''); return; }
      if (!supported) { say(box.checked ? 'Only while this tab is open: this browser cannot receive push.' : ''); return; }
      if (box.checked && f.subscriptions > 0) say('Also when this tab is closed.');
      if (first) subscribe(); // once per page: a browser's subscription can change
    },
    onError(f) {
      if (f.code !== 'bad_subscription' && f.code !== 'push_disabled' && !(f.code === 'too_many' && /push/.test(f.message))) return false;
      say('Push notifications: ' + (f.message || f.code));
      return true;
    },
  };
}
