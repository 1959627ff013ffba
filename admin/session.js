// Who is signed in on this browser: the desk's token kept in localStorage (one key per desk), shared by every tab; signing out in one tab signs out the others (the `storage` event).

/** localStorage wrapper that never throws (storage may be disabled: the inbox still works in this tab). */
export function local(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
  } catch { /* storage unavailable */ }
  return null;
}

/**
 * The sign-in of `desk` on this browser.
 * onOtherTab(token|null): another tab signed in with a token (or signed out: null).
 * Returns { token(), save(token), clear() }: `clear` also signs out every other tab of this desk.
 */
export function session(desk, onOtherTab) {
  const key = 'inbox.token:' + desk;
  let memory = local(key); // kept in memory too, for a browser without storage
  addEventListener('storage', (e) => {
    if (e.key !== key && e.key !== null) return; // e.key null: storage cleared as a whole
    const now = e.key === null ? null : e.newValue;
    if (now === memory) return;
    memory = now;
    onOtherTab(now);
  });
  return {
    token: () => memory,
    save(token) {
      memory = token;
      if (local(key) !== token) local(key, token);
    },
    clear() {
      memory = null;
      local(key, null);
    },
  };
}

/** The invite code in the page's fragment (`#invite=CODE`), or null. */
export function inviteCode() {
  const m = /^#invite=([0-9A-Za-z_-]{1,200})$/.exec(location.hash);
  return m ? m[1] : null;
}

/** Removes the fragment from the address bar (and history) without a reload. */
export function clearFragment() {
  history.replaceState(null, '', location.pathname + location.search);
}

/**
 * Accepts an invite: POST /desks/{desk}/agents/accept {code, name}.
 * Resolves { ok: true, agent: {agentId, name, role, token} } or { ok: false, message } (for people).
 */
export async function acceptInvite(desk, code, name) {
  let r;
  try {
    r = await fetch('/desks/' + encodeURIComponent(desk) + '/agents/accept', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, cache: 'no-store',
      body: JSON.stringify({ code, name }),
    });
  } catch {
    return { ok: false, message: 'The desk cannot be reached. Check your connection and try again.' };
  }
  if (r.status === 401) return { ok: false, message: 'This invite was already used or has expired. Ask for a new one.' };
  if (r.status === 400) {
    // the desk says which rule the name broke (e.g. "name may not contain a check mark…")
    let why = '';
    try { why = String((await r.json()).message || ''); } catch { /* no reason given */ }
    return { ok: false, message: 'That name cannot be used' + (why ? ': ' + why : ': 1 to 64 visible characters') + '.' };
  }
  if (r.status === 429) return { ok: false, message: 'Too many tries from this address. Wait a few minutes and try again.' };
  if (!r.ok) return { ok: false, message: 'The desk could not accept the invite (' + r.status + '). Try again later.' };
  let agent;
  try { agent = await r.json(); } catch { agent = null; }
  if (!agent || typeof agent.token !== 'string' || !agent.token) return { ok: false, message: 'The desk sent an answer this page does not understand.' };
  return { ok: true, agent };
}
