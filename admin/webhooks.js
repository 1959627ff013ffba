// The Settings page's Webhooks section (owner and admins only): the endpoints with their secrets (rotate, enable/disable, delete), a form to add one (URL, events, JSON or Slack) and the delivery log; `webhooks` / `webhook_save` / `webhook_delete` frames (docs/protocol.md, Webhooks).
import { asker, errorLine, isManager } from './page.js';
import { WEBHOOK_EVENTS, webhookDeleteFrame, webhookSaveFrame, webhooksFrame } from '../client/protocol.js';
import { el } from './render.js';

const ERRORS = new Set(['bad_webhook_url', 'bad_webhook', 'unknown_webhook', 'too_many', 'forbidden']);

/**
 * ui: { section, list, none, form, url, events, format, error, log, refresh };
 * hooks: { send(frame) -> bool, confirm(question) -> bool }.
 * Returns { setMe(me), open(), onWebhooks(frame), onError(frame) -> handled }.
 */
export function createWebhooks(ui, { send, confirm }) {
  let me = null, waiting = false;
  const boxes = new Map();
  for (const event of WEBHOOK_EVENTS) {
    const box = el('input');
    box.type = 'checkbox';
    box.id = `hook-${event.replace('.', '-')}`;
    box.checked = event !== 'conversation.unanswered';
    const label = el('label', '', event);
    label.htmlFor = box.id;
    const row = el('div', 'day-row');
    row.append(box, label);
    ui.events.append(row);
    boxes.set(event, box);
  }
  const manages = () => isManager(me);
  const error = errorLine(ui.error);
  function busy(on) {
    waiting = on;
    ui.log.setAttribute('aria-busy', String(on)); // until the desk answers
  }
  const ask = asker(send, error, busy);

  function endpointRow(e) {
    const li = el('li', 'hook');
    const head = el('div', 'hook-head');
    head.append(el('strong', 'hook-url', e.url), el('span', 'hint-inline', ` ${e.format === 'slack' ? 'Slack' : 'JSON'} · ${e.enabled ? 'enabled' : 'disabled'} · ${e.pending} waiting`));
    const events = el('p', 'hint-inline', e.events.join(', '));
    const secret = el('p', 'hint-inline');
    secret.append('Secret: ', el('code', '', e.secret));
    const actions = el('div', 'hook-actions');
    const button = (text, label, frame, question) => {
      const b = el('button', 'older', text);
      b.type = 'button';
      b.setAttribute('aria-label', `${label} ${e.url}`);
      b.addEventListener('click', () => { if (!question || confirm(question)) ask(frame); });
      actions.append(b);
    };
    button('Rotate secret', 'Rotate the secret of', webhookSaveFrame({ id: e.id, rotateSecret: true }), 'Give this webhook a new secret? The receiver must use it from now on.');
    button(e.enabled ? 'Disable' : 'Enable', e.enabled ? 'Disable' : 'Enable', webhookSaveFrame({ id: e.id, enabled: !e.enabled }));
    button('Delete', 'Delete', webhookDeleteFrame(e.id), 'Delete this webhook and the deliveries waiting for it?');
    li.append(head, events, secret, actions);
    return li;
  }

  function logRow(l, urls) {
    const when = new Date(l.at).toLocaleString();
    const what = [l.status, l.event, l.code ? `HTTP ${l.code}` : null, l.error, `attempt ${l.attempts}`, urls.get(l.endpointId) ?? 'a deleted webhook', when];
    return el('li', `hook-log ${l.status}`, what.filter(Boolean).join(' · '));
  }

  function onWebhooks(f) {
    busy(false);
    const urls = new Map(f.endpoints.map((e) => [e.id, e.url]));
    ui.list.replaceChildren(...f.endpoints.map(endpointRow));
    ui.none.hidden = f.endpoints.length > 0;
    ui.log.replaceChildren(...(f.log.length ? f.log.map((l) => logRow(l, urls)) : [el('li', 'hint-inline', 'No deliveries yet.')]));
  }

  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const events = [...boxes].filter(([, b]) => b.checked).map(([name]) => name);
    ask(webhookSaveFrame({ url: ui.url.value.trim(), events, format: ui.format.value }));
  });
  ui.refresh.addEventListener('click', () => ask(webhooksFrame()));

  return {
    setMe(m) {
      me = m;
      ui.section.hidden = !manages();
    },
    open() { if (manages()) ask(webhooksFrame()); },
    onWebhooks(f) {
      const added = ui.url.value && f.endpoints.some((e) => e.url === ui.url.value.trim());
      if (added) ui.url.value = '';
      onWebhooks(f);
    },
    onError(f) {
      if (!waiting || !ERRORS.has(f.code)) return false;
      busy(false);
      error(f.message || f.code);
      return true;
    },
  };
}
