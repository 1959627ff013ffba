// "Typing…" in the inbox: what the open conversation shows ("Ada is typing…", "Ana is replying…"), cleared by the message itself or 6 s after the last frame; and this agent's own typing sent at most once per 2 s (client/protocol.js).
import { typingSender, typingShown } from '../client/protocol.js';

/**
 * el: the line under the log; hooks: { send(frame) -> bool, me() -> {agentId}|null, selected() -> userId|null,
 * name(userId) -> the visitor's name }.
 */
export function createTyping(el, { send, me, selected, name }) {
  // keys: `${userId}\n` for the visitor, `${userId}\n${agentId}` for a colleague
  const shown = typingShown(paint);
  function paint() {
    const id = selected();
    const labels = id ? shown.labels(id + '\n') : [];
    el.textContent = labels.join(' · ');
    el.hidden = !labels.length;
  }
  const sendTyping = typingSender(send);
  return {
    /** A `typing` frame: the visitor's (`userId` only) or a colleague's (`agentId`, `agentName`; one's own other tabs are not shown). */
    onTyping(f) {
      if (typeof f.userId !== 'string') return;
      if (typeof f.agentId !== 'string') return shown.show(f.userId + '\n', (name(f.userId) || 'The visitor') + ' is typing…');
      if (f.agentId === me()?.agentId) return;
      shown.show(f.userId + '\n' + f.agentId, String(f.agentName || 'An agent').slice(0, 64) + ' is replying…');
    },
    /** A message clears its author's "typing…". */
    onMessage(f) {
      if (typeof f.userId !== 'string') return;
      if (f.sender === 'user') shown.clear(f.userId + '\n');
      else if (f.sender === 'admin' && f.agentId) shown.clear(f.userId + '\n' + f.agentId);
    },
    /** The agent typed a reply in `userId`'s conversation. */
    typed: (userId) => sendTyping(userId),
    /** Another conversation is open (or none): show its line. */
    paint,
  };
}
