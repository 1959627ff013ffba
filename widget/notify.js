// The visitor's side of "agents are told" (docs/widget.md, Notifications): a reply that arrives while the panel is closed (or the tab hidden) puts "(N) New message" in the tab's title and plays a short chime made with WebAudio (no file), besides the launcher's badge.

const TITLE = Object.getOwnPropertyDescriptor(Document.prototype, 'title');

/**
 * `options` is the script's dataset (`data-sound="off"`: never a sound); `muted()` whether the host
 * called SupportChat.mute(); `hidden()` whether the tab is hidden; `emit('sound')` tells the page
 * (and the tests) each time the chime plays. Returns `reply(count)` (a reply arrived unseen: the
 * title counts `count`), `restore()` (the panel opened: the page's own title again) and `back()`
 * (the tab became visible: the title comes back if it changed while the visitor was away).
 */
export function notifier({ doc, options, emit, muted, hidden }) {
  let saved = null, ours = '', whileAway = false, audio = null;
  const title = (value) => (value == null ? TITLE.get.call(doc) : TITLE.set.call(doc, value));
  const restore = () => {
    // the host may have changed its title since (a single-page app): then its title stays
    if (saved != null && title() == ours) title(saved);
    saved = null;
    whileAway = false;
  };
  // Only after the visitor interacted with the page (browsers refuse audio before; those without
  // navigator.userActivation stay silent), never with data-sound="off" or after SupportChat.mute().
  const chime = () => {
    const activation = navigator.userActivation;
    if (options.sound == 'off' || muted() || !activation || !activation.hasBeenActive) return;
    try {
      audio = audio || new AudioContext();
      if (audio.state == 'suspended') audio.resume();
      const at = audio.currentTime, tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.setValueAtTime(880, at);
      tone.frequency.setValueAtTime(660, at + 0.12);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      tone.connect(gain).connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.4);
      emit('sound', {});
    } catch { /* no audio here */ }
  };
  return {
    reply(count) {
      if (saved == null) saved = title();
      ours = '(' + count + ') New message' + (count > 1 ? 's' : '');
      title(ours);
      whileAway = whileAway || hidden();
      chime();
    },
    restore,
    back() { if (whileAway) restore(); },
  };
}
