// The inbox's optional notifications (off by default): a short beep, and a system notification while the tab is hidden.

const NOTIFY_KEY = 'inbox.notify';
const BEEP_GAP_MS = 1000; // a flood of messages is one beep a second, not hundreds

/**
 * Wires the "Notify me" checkbox (its choice kept through `store(key, value)`) and returns
 * notify(frame, name, inView): called for every visitor message; quiet when the switch is off or the
 * message lands in the conversation on screen.
 */
export function setupNotify(box, store) {
  let audio = null, beeped = -Infinity;
  box.checked = store(NOTIFY_KEY) === 'on';
  box.addEventListener('change', () => {
    store(NOTIFY_KEY, box.checked ? 'on' : null);
    if (box.checked && 'Notification' in window && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
  });
  function beep() {
    const now = performance.now();
    if (now - beeped < BEEP_GAP_MS) return;
    beeped = now;
    try {
      audio = audio || new AudioContext();
      const osc = audio.createOscillator(), gain = audio.createGain();
      gain.gain.value = 0.08;
      osc.frequency.value = 880;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.15);
    } catch { /* no audio: the notification below still shows */ }
  }
  return function notify(f, name, inView) {
    if (!box.checked || (document.visibilityState === 'visible' && inView)) return;
    beep();
    if (document.visibilityState !== 'visible' && 'Notification' in window && Notification.permission === 'granted') {
      try { new Notification(name || 'New message', { body: f.message, tag: f.userId }); } catch { /* not allowed */ }
    }
  };
}
