// The Saved replies page: every agent sees the desk's saved replies; the owner and admins create, edit and delete them (the desk checks it too). The list itself comes from the desk (`replies` frames) and is what the reply box's `/` shortcut offers (shortcuts.js).
import { asker, errorLine, isManager } from './page.js';
import { el, plain } from './render.js';
import {
  MAX_REPLY_TEXT_CHARS, MAX_REPLY_TITLE_CHARS, MAX_SHORTCUT_CHARS, deleteReplyFrame, repliesFrame, saveReplyFrame,
} from '../client/protocol.js';

/**
 * ui: { list, none, form, formTitle, title, shortcut, text, save, cancel, error }; hooks: { send(frame), confirm(question) }.
 * Returns { replies, setMe(me), connected(), onReplies(f), onError(f) -> handled }.
 */
export function createSavedReplies(ui, { send, confirm }) {
  let replies = [], me = null, editing = null, waiting = false;
  const manages = () => isManager(me);
  ui.title.maxLength = MAX_REPLY_TITLE_CHARS;
  ui.shortcut.maxLength = MAX_SHORTCUT_CHARS + 1; // a leading "/" is allowed
  ui.text.maxLength = MAX_REPLY_TEXT_CHARS;

  const error = errorLine(ui.error);
  const act = asker(send, error, (on) => { waiting = on; });
  function edit(reply) {
    editing = reply?.id ?? null;
    ui.formTitle.textContent = reply ? `Edit /${reply.shortcut}` : 'New saved reply';
    ui.title.value = reply?.title ?? '';
    ui.shortcut.value = reply?.shortcut ?? '';
    ui.text.value = reply?.text ?? '';
    ui.save.textContent = reply ? 'Save changes' : 'Save reply';
    ui.cancel.hidden = !reply;
    if (reply) ui.title.focus();
  }

  function paint() {
    ui.form.hidden = !manages();
    ui.none.hidden = replies.length > 0;
    const items = replies.map((r) => {
      const li = el('li', 'agent saved');
      const head = el('span', 'agent-who');
      head.append(el('strong', '', plain(r.title)), el('code', '', '/' + r.shortcut));
      li.append(head, el('span', 'agent-facts saved-text', plain(r.text)));
      if (manages()) {
        const editButton = el('button', 'older', 'Edit');
        editButton.type = 'button';
        editButton.setAttribute('aria-label', `Edit /${r.shortcut}`);
        editButton.addEventListener('click', () => edit(r));
        const del = el('button', 'revoke', 'Delete');
        del.type = 'button';
        del.setAttribute('aria-label', `Delete /${r.shortcut}`);
        del.addEventListener('click', () => { if (confirm(`Delete the saved reply /${r.shortcut}?`)) act(deleteReplyFrame(r.id)); });
        li.append(editButton, del);
      }
      return li;
    });
    ui.list.replaceChildren(...items);
  }

  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    act(saveReplyFrame({ id: editing, title: ui.title.value.trim(), shortcut: ui.shortcut.value.trim(), text: ui.text.value }));
  });
  ui.cancel.addEventListener('click', () => edit(null));

  return {
    get replies() { return replies; },
    setMe(m) { me = m; paint(); },
    /** A new socket: the list is asked again (a change made meanwhile is in it). */
    connected() { send(repliesFrame()); },
    onReplies(f) {
      replies = Array.isArray(f.replies) ? f.replies.filter((r) => r && typeof r.shortcut === 'string' && typeof r.text === 'string') : [];
      if (waiting) { waiting = false; error(''); edit(null); }
      else if (editing && !replies.some((r) => r.id === editing)) edit(null);
      paint();
    },
    /** An `error` frame answering a change made here: shown on the page. */
    onError(f) {
      if (!waiting) return false;
      waiting = false;
      error(f.code === 'forbidden' ? 'Only the owner and admins manage saved replies.'
        : f.code === 'too_many' ? 'This desk has as many saved replies as it can keep: delete one first.'
          : f.code === 'unknown_reply' ? 'That saved reply was deleted meanwhile.'
            : 'The desk refused that: ' + (f.message || f.code));
      return true;
    },
  };
}
