// What the inbox's own pages (Team, Saved replies, Settings, Webhooks, Email alerts) share: an error line, a change sent with a busy mark until the desk answers, and who manages the desk.

/** The owner and admins manage the team, saved replies, settings and webhooks. */
export const isManager = (me) => me?.role === 'owner' || me?.role === 'admin';

/** A page's error line: `say(text)` shows it, `say('')` hides it. */
export function errorLine(node) {
  return (text) => {
    node.textContent = text;
    node.hidden = !text;
  };
}

/**
 * A page's way to send a change: its error line cleared, `busy(true)` until the desk answers
 * (the page's own frame handler clears it); not connected, it says so and `busy(false)`.
 * Returns `ask(frame) -> sent`.
 */
export function asker(send, say, busy) {
  return (frame) => {
    say('');
    busy(true);
    if (send(frame)) return true;
    busy(false);
    say('Not connected to the desk: try again in a moment.');
    return false;
  };
}
