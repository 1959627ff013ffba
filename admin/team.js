// The Team page (your name; the members; owner/admin: invite links and revoking) and the "Join the team" page an invite link opens.
import { asker, errorLine, isManager } from './page.js';
import { el } from './render.js';
import { acceptInvite, clearFragment } from './session.js';

const ROLE = { owner: 'Owner', admin: 'Admin', agent: 'Agent' };

/** Whether `me` may revoke `agent`: the owner anyone but itself, an admin only agents. */
export function mayRevoke(me, agent) {
  if (!me || agent.agentId === me.agentId || agent.role === 'owner') return false;
  return me.role === 'owner' || (me.role === 'admin' && agent.role === 'agent');
}

/**
 * ui: the Team page's elements; desk: this desk's name; hooks: { send(frame) }.
 * Returns { setMe(me), open(), close(), onAgents(list), onInvited(f), onProfile(f), onError(f) -> handled }.
 */
export function createTeam(ui, desk, { send }) {
  let me = null, agents = [], waiting = false, poll = 0;
  const manages = () => isManager(me);

  const error = errorLine(ui.error);
  const act = asker(send, error, (on) => { waiting = on; });

  function paint() {
    ui.inviteForm.hidden = !manages();
    // an admin invites agents only; the owner chooses
    const adminOption = ui.inviteRole.querySelector('option[value="admin"]');
    if (adminOption) adminOption.disabled = adminOption.hidden = me?.role !== 'owner';
    if (me?.role !== 'owner') ui.inviteRole.value = 'agent';
    if (!manages()) ui.result.hidden = true;
    const items = agents.map((a) => {
      const li = el('li', 'agent');
      const who = el('span', 'agent-who');
      who.append(el('span', 'dot' + (a.online ? ' online' : '')), el('strong', '', a.name || a.agentId));
      if (a.agentId === me?.agentId) who.append(el('span', 'hint-inline', ' (you)'));
      const facts = [ROLE[a.role] || a.role, a.pending ? 'invited, not joined yet' : a.online ? 'online' : 'offline'];
      if (a.email) facts.push(a.email);
      li.append(who, el('span', 'agent-facts', facts.join(' · ')));
      if (mayRevoke(me, a)) {
        const b = el('button', 'revoke', 'Revoke');
        b.type = 'button';
        b.setAttribute('aria-label', 'Revoke ' + (a.name || a.agentId));
        b.addEventListener('click', () => {
          // eslint-disable-next-line no-alert
          if (confirm(`Revoke ${a.name || a.agentId}? Their sign-in stops working at once; what they wrote keeps their name.`)) {
            act({ type: 'revoke', agentId: a.agentId });
          }
        });
        li.append(b);
      }
      return li;
    });
    ui.agents.replaceChildren(...items);
  }

  ui.profileForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ui.myName.value.trim();
    if (!name) return;
    ui.profileDone.textContent = '';
    act({ type: 'profile', name });
  });
  ui.inviteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = ui.inviteName.value.trim();
    if (!name) return;
    const frame = { type: 'invite', name, role: ui.inviteRole.value };
    if (ui.inviteEmail.value.trim()) frame.email = ui.inviteEmail.value.trim();
    act(frame);
  });
  ui.refresh.addEventListener('click', () => send({ type: 'agents' }));
  ui.copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(ui.link.value);
    } catch {
      ui.link.select();
      document.execCommand('copy'); // older browsers, or no clipboard permission
    }
    ui.copy.textContent = 'Copied';
  });

  return {
    setMe(m) {
      me = m;
      if (document.activeElement !== ui.myName) ui.myName.value = m?.name || '';
      paint();
    },
    /** The page is shown: the list is asked for now and every 10 s (the desk announces no joins or presence of agents). */
    open() {
      error('');
      send({ type: 'agents' });
      paint();
      clearInterval(poll);
      poll = setInterval(() => send({ type: 'agents' }), 10000);
    },
    close() { clearInterval(poll); },
    onAgents(list) {
      waiting = false;
      agents = Array.isArray(list) ? list : [];
      paint();
    },
    onInvited(f) {
      waiting = false;
      const url = new URL('/admin/chat', location.href);
      url.search = new URLSearchParams({ desk }).toString();
      url.hash = 'invite=' + f.code;
      ui.link.value = url.toString();
      ui.copy.textContent = 'Copy';
      ui.expiry.textContent = f.expiresAt
        ? 'Works once, until ' + new Date(f.expiresAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) + '.'
        : 'Works once.';
      ui.result.hidden = false;
      ui.inviteForm.reset();
      send({ type: 'agents' }); // the pending invite joins the list
    },
    onProfile(f) {
      waiting = false;
      ui.profileDone.textContent = 'Saved';
    },
    onError(f) {
      if (!waiting || f.clientMsgId) return false;
      waiting = false;
      error(f.code === 'forbidden' ? 'Your role cannot do that: ask the owner or an admin.'
        : f.code === 'unknown_agent' ? 'That member is no longer on the team.'
          : 'The desk refused that: ' + (f.message || f.code || 'error'));
      return true;
    },
  };
}

/**
 * The page an invite link opens (`#invite=CODE`): asks a display name, accepts the invite, and hands
 * the new agent's token to onJoined(agent). Returns { show(code) }.
 */
export function setupJoin(ui, desk, { onJoined }) {
  let code = null;
  ui.form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = ui.name.value.trim();
    if (!name || !code) return;
    ui.error.hidden = true;
    ui.submit.disabled = true;
    const r = await acceptInvite(desk, code, name);
    ui.submit.disabled = false;
    if (!r.ok) {
      ui.error.textContent = r.message;
      ui.error.hidden = false;
      return;
    }
    clearFragment();
    ui.section.hidden = true;
    onJoined(r.agent);
  });
  return {
    show(c) {
      code = c;
      ui.section.hidden = false;
      ui.error.hidden = true;
      ui.name.focus();
    },
  };
}
