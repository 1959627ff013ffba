// The Settings page (owner and admins change it, everyone on the team reads it): the desk's time zone, business hours (one interval a day here; the wire allows three), holidays, expected reply time and the away message; `settings` / `settings_update` frames (docs/protocol.md, Availability).
import { asker, errorLine, isManager } from './page.js';
import { DAYS, REPLY_TIMES, settingsFrame, settingsUpdateFrame } from '../client/protocol.js';
import { el } from './render.js';

const DAY_NAMES = { sun: 'Sunday', mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday' };
const WEEK = [...DAYS.slice(1), DAYS[0]]; // shown Monday first
const ERRORS = new Set(['bad_time_zone', 'bad_hours', 'bad_holidays', 'bad_away_message', 'bad_unanswered_minutes']);

/** The time zones the browser knows (the desk checks the name against tzdata). */
function zones(current) {
  let list = [];
  try { list = Intl.supportedValuesOf('timeZone'); } catch { /* an older browser: the current one and UTC */ }
  return [...new Set(['UTC', current, ...list].filter(Boolean))];
}

/**
 * ui: { form, zone, hours, holidays, reply, away, done, error, readonly };
 * hooks: { send(frame) -> bool }. Returns { setMe(me), open(), onSettings(frame), onError(frame) -> handled }.
 */
export function createSettings(ui, { send }) {
  let me = null, saving = false;
  const rows = new Map(); // day -> { on, open, close }
  for (const day of WEEK) {
    const on = el('input');
    on.type = 'checkbox';
    on.id = `set-${day}`;
    const label = el('label', '', DAY_NAMES[day]);
    label.htmlFor = on.id;
    const open = el('input');
    const close = el('input');
    open.type = close.type = 'time';
    open.value = '09:00';
    close.value = '17:00';
    open.setAttribute('aria-label', `${DAY_NAMES[day]} opens`);
    close.setAttribute('aria-label', `${DAY_NAMES[day]} closes`);
    const row = el('div', 'day-row');
    row.append(on, label, open, el('span', '', 'to'), close);
    ui.hours.append(row);
    rows.set(day, { on, open, close });
  }
  for (const [value, text] of Object.entries(REPLY_TIMES)) {
    const o = el('option', '', text[0].toUpperCase() + text.slice(1));
    o.value = value;
    ui.reply.append(o);
  }
  const manages = () => isManager(me);
  const error = errorLine(ui.error);
  const ask = asker(send, error, (on) => { saving = on; });

  function onSettings(s) {
    const options = zones(s.timeZone).map((z) => { const o = el('option', '', z); o.value = z; return o; });
    ui.zone.replaceChildren(...options);
    ui.zone.value = s.timeZone;
    for (const [day, r] of rows) {
      const first = (s.hours || []).find((h) => h.day === day);
      r.on.checked = Boolean(first);
      if (first) { r.open.value = first.open; r.close.value = first.close === '24:00' ? '23:59' : first.close; }
    }
    ui.holidays.value = (s.holidays || []).join('\n');
    ui.reply.value = s.replyTime;
    ui.away.value = s.awayMessage || '';
    if (ui.unanswered) ui.unanswered.value = s.unansweredMinutes ?? 5;
    if (saving) { ui.done.textContent = 'Saved'; saving = false; }
  }

  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    ui.done.textContent = '';
    const hours = [];
    for (const [day, r] of rows) if (r.on.checked) hours.push({ day, open: r.open.value, close: r.close.value === '23:59' ? '24:00' : r.close.value });
    const frame = settingsUpdateFrame({
      timeZone: ui.zone.value,
      hours,
      holidays: ui.holidays.value.split(/[\s,]+/).filter(Boolean),
      replyTime: ui.reply.value,
      awayMessage: ui.away.value,
      ...(ui.unanswered ? { unansweredMinutes: Number(ui.unanswered.value) || 5 } : {}),
    });
    ask(frame);
  });

  return {
    setMe(m) {
      me = m;
      for (const field of ui.form.elements) field.disabled = !manages();
      ui.readonly.hidden = manages();
    },
    open() { error(''); ui.done.textContent = ''; send(settingsFrame()); },
    onSettings,
    onError(f) {
      if (!ERRORS.has(f.code) && !(saving && f.code === 'forbidden')) return false;
      saving = false;
      error(f.message || f.code);
      return true;
    },
  };
}
