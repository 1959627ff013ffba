// The widget's honest availability (docs/widget.md, "Availability"): a line under the header that
// says what is true — "We're online" with the initials of the agents available, or "We're away, we
// reply by email" with the next opening in the visitor's own time zone — read from
// GET /desks/{desk}/status (no socket: the closed widget knows it too), and, once the visitor has
// written while the desk is away, one optional email prompt. Its own module, imported by widget.js.
import { REPLY_TIMES, emailFrame, fetchAvailability, looksLikeEmail } from '../client/protocol.js';

// Constant markup only: every value goes in as text.
const EMAIL_FORM = '<label for="email">Get our reply by email (optional)</label><div><input id="email" type="email" ' +
  'autocomplete="email" maxlength="254"><button>Save</button><button type="button" class="skip">No thanks</button></div>' +
  '<p role="status"></p>';
const INVALID = 'Please enter an address like name@example.com';
const REFRESH_MS = 30000;

/** The visitor's next opening, in their own time zone and language: "Mon, 30 Mar, 09:00". */
const opening = (at) =>
  new Date(at).toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/**
 * `make(tag)` creates elements in the widget's document; `line` goes under the header, `form`
 * before the composer; `greeting` is the empty log's note; `send(frame)` returns whether it went
 * out; `asked` / `remember()` keep "already asked" in the visitor's storage.
 */
export function availability({ origin, desk, make, header, composer, greeting, send, asked, remember }) {
  const line = make('p');
  line.className = 'avail';
  header.after(line);
  const form = make('form');
  form.className = 'email';
  form.setAttribute('aria-label', 'Email');
  form.innerHTML = EMAIL_FORM;
  form.hidden = form.noValidate = true; // our message, not the browser's bubble
  composer.before(form);
  const input = form.querySelector('input');
  const note = form.querySelector('p');
  let status = null, fetchedAt = 0, email = '', wrote = false, auto = false;

  const render = () => {
    if (!status) return;
    line.dataset.online = status.online;
    line.replaceChildren(status.online ? "We're online" : "We're away, we reply by email");
    if (status.online) {
      for (const agent of (status.agents || []).slice(0, 5)) {
        const who = make('span');
        who.className = 'who';
        who.textContent = String(agent.initials || '').slice(0, 2);
        who.title = String(agent.name || '');
        line.append(who);
      }
    } else if (status.nextOpenAt) {
      line.append(' · back ' + opening(status.nextOpenAt));
    }
    const soon = REPLY_TIMES[status.replyTime];
    if (soon) greeting.textContent = 'Ask us anything: we usually reply ' + soon + '.';
    prompt();
  };
  // Once the visitor wrote while the desk is away, or got the desk's automatic reply (away or
  // unanswered), unless it has an email or was asked already.
  const prompt = () => {
    if (((status && !status.online) || auto) && wrote && !email && !asked()) form.hidden = false;
  };
  const automatic = (m) => m && m.event && m.event.kind == 'away';
  const refresh = (force) => {
    if (!force && Date.now() - fetchedAt < REFRESH_MS) return;
    fetchedAt = Date.now();
    fetchAvailability(origin, desk).then((answer) => {
      if (answer && typeof answer.online == 'boolean') { status = answer; render(); }
    });
  };
  const done = (text) => {
    remember();
    note.textContent = text;
    input.disabled = true;
    form.querySelectorAll('button').forEach((b) => { b.hidden = true; });
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!looksLikeEmail(value)) { note.textContent = INVALID; return; }
    note.textContent = send(emailFrame(value)) ? 'Saving…' : 'Not connected: try again in a moment';
  });
  form.querySelector('.skip').addEventListener('click', () => { remember(); form.hidden = true; });

  return {
    refresh,
    /** The visitor sent a message: the desk may be away. */
    wrote() { wrote = true; prompt(); refresh(); },
    /** A frame from the desk; true when it was this module's. */
    frame(frame) {
      if (frame.type == 'welcome') {
        email = typeof frame.email == 'string' ? frame.email : '';
        wrote = wrote || (frame.messages || []).some((m) => m && m.sender == 'user');
        auto = auto || (frame.messages || []).some(automatic);
        prompt();
      } else if (frame.type == 'message' && automatic(frame)) {
        auto = true;
        prompt();
      } else if (frame.type == 'email_saved') {
        email = input.value.trim() || email;
        done("Thanks: we'll reply by email");
        return true;
      } else if (frame.type == 'error' && frame.code == 'bad_email') {
        note.textContent = INVALID;
        return true;
      }
      return false;
    },
  };
}
