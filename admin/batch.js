// Live sidebar rows batched per animation frame: under a flood the desk sends hundreds of `user` frames a second; each conversation's latest row is kept and the sidebar is painted once per frame.

// The fallback timer: `scheduler.postTask` where there is one (Chromium), so rows are still painted
// when the page's timers and frames are held (a test's fake clock), else `setTimeout`.
function later(run, ms) {
  const task = globalThis.scheduler?.postTask;
  if (typeof task !== 'function') {
    const timer = setTimeout(run, ms);
    return () => clearTimeout(timer);
  }
  const ctl = new TaskController();
  globalThis.scheduler.postTask(run, { delay: ms, signal: ctl.signal }).catch(() => { /* cancelled */ });
  return () => ctl.abort();
}

/**
 * The default scheduler: the next animation frame, or a timer when frames do not come (a hidden
 * tab gets none, and its title still counts unread). Returns a function that cancels it.
 */
export function nextFrame(run, fallbackMs = 200) {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(raf);
    cancelTimer();
    run();
  };
  const raf = requestAnimationFrame(once);
  const cancelTimer = later(once, fallbackMs);
  return () => {
    done = true;
    cancelAnimationFrame(raf);
    cancelTimer();
  };
}

/**
 * Collects rows and hands them to `apply([{ row, before }])` at most once per scheduled frame:
 * one entry per conversation, its latest row, with `before` the row it replaced when the batch
 * began (so "did the status or assignee change" compares across the whole batch).
 * `schedule(run) -> cancel` is `nextFrame` in the page, something synchronous in tests.
 * Returns { add(row, before), flush(), clear(), size }.
 */
export function createRowBatch(apply, schedule = nextFrame) {
  let pending = new Map(); // userId -> { row, before }, in arrival order
  let cancel = null;

  function flush() {
    cancel?.();
    cancel = null;
    if (!pending.size) return;
    const batch = [...pending.values()];
    pending = new Map();
    apply(batch);
  }

  return {
    add(row, before) {
      const entry = pending.get(row.userId);
      if (entry) entry.row = row;
      else pending.set(row.userId, { row, before });
      if (!cancel) cancel = schedule(flush);
    },
    /** Applies what is pending now: before any frame whose effect must come after these rows. */
    flush,
    /** Drops what is pending (signed out: nothing of that session may be painted). */
    clear() {
      cancel?.();
      cancel = null;
      pending = new Map();
    },
    get size() { return pending.size; },
  };
}
