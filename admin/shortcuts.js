// The reply box's saved replies: typing "/" and the start of a shortcut offers the matching saved replies in a listbox under the caret's line; arrows move, Enter or Tab inserts, Escape closes, a click inserts too. The textarea keeps the focus throughout (aria-activedescendant names the option), as in the ARIA combobox pattern.
import { el, plain } from './render.js';
import { matchingReplies, shortcutAt } from '../client/protocol.js';

/** ui: { input, form, list, status }; hooks: { replies() -> the desk's saved replies }. */
export function setupShortcuts(ui, { replies }) {
  let shown = [], active = -1, at = null;
  ui.input.setAttribute('aria-autocomplete', 'list');
  ui.input.setAttribute('aria-controls', ui.list.id);

  function close() {
    if (ui.list.hidden) return;
    ui.list.hidden = true;
    ui.list.replaceChildren();
    ui.input.removeAttribute('aria-activedescendant');
    shown = [];
    active = -1;
    ui.status.textContent = '';
  }
  function highlight(i) {
    active = (i + shown.length) % shown.length;
    [...ui.list.children].forEach((option, k) => option.setAttribute('aria-selected', String(k === active)));
    const option = ui.list.children[active];
    ui.input.setAttribute('aria-activedescendant', option.id);
    option.scrollIntoView({ block: 'nearest' });
  }
  function insert(reply) {
    const { value } = ui.input;
    const caret = ui.input.selectionStart;
    ui.input.value = value.slice(0, at.start) + reply.text + value.slice(caret);
    const end = at.start + reply.text.length;
    ui.input.setSelectionRange(end, end);
    close();
    ui.input.dispatchEvent(new Event('input', { bubbles: true })); // the draft keeps it
  }
  function update() {
    at = ui.input.selectionStart === ui.input.selectionEnd ? shortcutAt(ui.input.value, ui.input.selectionStart) : null;
    const found = at ? matchingReplies(replies(), at.prefix) : [];
    if (!found.length) return close();
    const same = found.length === shown.length && found.every((r, i) => r.id === shown[i].id);
    if (same && !ui.list.hidden) return;
    shown = found;
    ui.list.replaceChildren(...found.map((r, i) => {
      const option = el('li', 'suggestion');
      option.id = `${ui.list.id}-${i}`;
      option.setAttribute('role', 'option');
      option.append(el('span', 'suggestion-title', plain(r.title)), el('code', '', '/' + r.shortcut), el('span', 'suggestion-text', plain(r.text)));
      option.addEventListener('pointerdown', (e) => { e.preventDefault(); insert(r); });
      return option;
    }));
    ui.list.hidden = false;
    highlight(0);
    ui.status.textContent = `${found.length} saved ${found.length === 1 ? 'reply' : 'replies'}: arrows to choose, Enter to insert, Escape to close.`;
  }

  ui.input.addEventListener('input', update);
  ui.input.addEventListener('click', update);
  ui.input.addEventListener('keyup', (e) => { if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) update(); });
  ui.input.addEventListener('blur', close);
  // Captured on the form, before the composer's own Enter-sends handler on the textarea.
  ui.form.addEventListener('keydown', (e) => {
    if (e.target !== ui.input || ui.list.hidden) return;
    const handled = { ArrowDown: () => highlight(active + 1), ArrowUp: () => highlight(active - 1), Escape: close,
      Enter: () => insert(shown[active]), Tab: () => insert(shown[active]) }[e.key];
    if (!handled || (e.key === 'Enter' && (e.shiftKey || e.isComposing))) return;
    e.preventDefault();
    e.stopPropagation();
    handled();
  }, true);
  return { close };
}
