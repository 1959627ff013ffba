// Per-conversation composer drafts: what was typed (and whether as a reply or a note) stays with its conversation when switching, and through a reload of the tab.

/**
 * desk: the desk's name (drafts of different desks never mix).
 * Returns { save(userId, text, mode), take(userId) -> { text, mode }, forget() }.
 */
export function createDrafts(desk) {
  const key = 'inbox.drafts:' + desk;
  let all = {};
  try { all = JSON.parse(sessionStorage.getItem(key) || '{}') || {}; } catch { all = {}; }
  const persist = () => {
    try { sessionStorage.setItem(key, JSON.stringify(all)); } catch { /* kept in memory only */ }
  };
  return {
    save(userId, text, mode) {
      if (!userId) return;
      if (text.trim() || mode === 'note') all[userId] = { text, mode };
      else delete all[userId];
      persist();
    },
    /** Signed out: nothing typed stays for whoever signs in next on this tab. */
    forget() {
      all = {};
      try { sessionStorage.removeItem(key); } catch { /* nothing kept */ }
    },
    take(userId) {
      const d = all[userId];
      return d && typeof d.text === 'string' ? { text: d.text, mode: d.mode === 'note' ? 'note' : 'reply' } : { text: '', mode: 'reply' };
    },
  };
}
