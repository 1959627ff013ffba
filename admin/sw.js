// The inbox's service worker (/admin/sw.js, scope /admin/): shows what the desk pushes while no inbox tab is open (a visitor's name and message, as text), and a click focuses an open inbox on that conversation or opens one.

const str = (v, max) => (typeof v === 'string' ? v.slice(0, max) : '');

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { /* not ours: a generic notice */ }
  const userId = str(data.userId, 200);
  const desk = str(data.desk, 64);
  // Notifications are plain text by the platform: no HTML is ever interpreted here.
  const title = str(data.title, 100) || 'New message';
  const body = str(data.body, 400);
  event.waitUntil(self.registration.showNotification(title, { body, tag: userId || 'inbox', renotify: true, data: { userId, desk } }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { userId = '', desk = '' } = event.notification.data || {};
  const url = new URL('/admin/chat', self.location.origin);
  if (desk) url.searchParams.set('desk', desk);
  if (userId) url.searchParams.set('open', userId);
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const inbox = tabs.find((c) => {
      const at = new URL(c.url);
      return at.pathname === '/admin/chat' && (!desk || (at.searchParams.get('desk') || 'demo') === desk);
    });
    if (inbox) {
      await inbox.focus();
      inbox.postMessage({ type: 'open', userId });
      return;
    }
    await self.clients.openWindow(url.href);
  })());
});
