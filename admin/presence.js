// The signed-in agent's status (online / away) in the header, and the idle rule: after IDLE_MS without input in any tab of this desk the inbox sets the agent away, and back online at the next input, but only if it was the inbox that set it away (docs/protocol.md, Availability).
import { IDLE_MS, statusFrame } from '../client/protocol.js';

/**
 * select: the header's status <select>; desk: the desk's name; hooks: { send(frame) -> bool, now() }.
 * Returns { onMe(me), onStatus(frame, me) }.
 */
export function setupPresence(select, desk, { send, now = () => Date.now() }) {
  const activeKey = `inbox:${desk}:active`; // last input, shared by the desk's tabs
  const autoKey = `inbox:${desk}:auto-away`; // the inbox (not the agent) set it away
  const get = (k) => { try { return localStorage.getItem(k); } catch { return null; } };
  const set = (k, v) => { try { v == null ? localStorage.removeItem(k) : localStorage.setItem(k, v); } catch { /* unavailable */ } };
  let status = 'online', lastWrite = now(); // opening the inbox counts as input

  const choose = (next) => { if (send(statusFrame(next))) status = next; };
  select.addEventListener('change', () => { set(autoKey, null); choose(select.value); });
  const active = () => {
    const t = now();
    if (t - lastWrite > 5000) { set(activeKey, String(t)); lastWrite = t; }
    if (status === 'away' && get(autoKey)) { set(autoKey, null); choose('online'); }
  };
  for (const ev of ['keydown', 'pointerdown', 'focus']) addEventListener(ev, active, true);
  setInterval(() => {
    const last = Number(get(activeKey)) || lastWrite;
    if (status === 'online' && last && now() - last >= IDLE_MS) { set(autoKey, '1'); choose('away'); }
  }, 30000);

  const show = (away) => { status = away ? 'away' : 'online'; select.value = status; select.hidden = false; };
  return {
    onMe(me) { if (me) show(me.away === true); },
    onStatus(f, me) { if (me && f.agentId === me.agentId) show(f.status === 'away'); },
  };
}
