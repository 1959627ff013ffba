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
 * Rows painted in one frame at most. Drawing a row, then laying out and painting the sidebar, costs
 * ~0.1-0.3 ms a row: 200 conversations changed in one frame made a 50-100 ms task (the desk answers
 * a flood in bursts since it commits frames in groups). The rest waits for the next frame, in the
 * order it came, still one entry per conversation.
 */
export const ROWS_PER_FRAME = 40;

/**
 * Collects rows and hands them to `apply([{ row, before }])` at most once per scheduled frame:
 * one entry per conversation, its latest row, with `before` the row it replaced when the batch
 * began (so "did the status or assignee change" compares across the whole batch); at most
 * `perFrame` of them, the oldest first, and another frame is asked for the rest.
 * `schedule(run) -> cancel` is `nextFrame` in the page, something synchronous in tests.
 * Returns { add(row, before), flush(), clear(), size }: `flush()` applies everything pending now.
 */
export function createRowBatch(apply, schedule = nextFrame, perFrame = ROWS_PER_FRAME) {
  let pending = new Map(); // userId -> { row, before }, in arrival order
  let cancel = null;

  function take(limit) {
    cancel?.();
    cancel = null;
    if (!pending.size) return;
    let batch;
    if (pending.size <= limit) {
      batch = [...pending.values()];
      pending = new Map();
    } else {
      batch = [];
      for (const [userId, entry] of pending) {
        if (batch.length === limit) break;
        batch.push(entry);
        pending.delete(userId);
      }
      cancel = schedule(frame);
    }
    apply(batch);
  }
  const frame = () => take(perFrame);
  const flush = () => take(Infinity);

  return {
    add(row, before) {
      const entry = pending.get(row.userId);
      if (entry) entry.row = row;
      else pending.set(row.userId, { row, before });
      if (!cancel) cancel = schedule(frame);
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
