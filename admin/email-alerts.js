// The Settings page's "Email alerts" form: each agent's own opt-in to an email when a conversation
// goes unanswered, and where it goes; says so when the desk cannot send email at all
// (`email_alerts` frame, docs/protocol.md, Email).
import { asker, errorLine } from './page.js';
import { emailAlertsFrame } from '../client/protocol.js';

/** ui: { form, off, unanswered, email, done, error }; hooks: { send(frame) -> bool }. */
export function createEmailAlerts(ui, { send }) {
  let saving = false;
  const say = errorLine(ui.error);
  const ask = asker(send, say, (on) => { saving = on; });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    ui.done.textContent = '';
    ask(emailAlertsFrame({ unanswered: ui.unanswered.checked, email: ui.email.value.trim() }));
  });
  return {
    open() { say(''); ui.done.textContent = ''; send(emailAlertsFrame()); },
    onAlerts(f) {
      ui.off.hidden = f.emailEnabled;
      ui.unanswered.checked = f.unanswered;
      ui.email.value = f.email || '';
      if (saving) { ui.done.textContent = 'Saved'; saving = false; }
    },
    onError(f) {
      if (!saving || f.code !== 'bad_email') return false;
      saving = false;
      say(f.message || f.code);
      return true;
    },
  };
}
