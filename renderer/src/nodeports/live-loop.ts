// The timer behind live counters (no React, no DOM: the page's visibility is asked through a
// function). One read at a time: the next is scheduled when the last one ends, so a slow node
// never piles reads up behind each other; hidden, it stops and drops the read in flight.

export interface LiveLoopOptions {
  /** One read; it should give up when the signal aborts. Errors are the caller's to show. */
  readonly read: (signal: AbortSignal) => Promise<void>;
  readonly intervalMs: number;
  /** Whether anyone can see the result (document.visibilityState === 'visible'). */
  readonly visible: () => boolean;
}

export interface LiveLoop {
  start(): void;
  stop(): void;
  /** The page was shown or hidden: read at once when shown, stop while hidden. */
  visibilityChanged(): void;
  setInterval(ms: number): void;
  /** Whether a read is in flight. */
  readonly busy: boolean;
}

export function liveLoop(options: LiveLoopOptions): LiveLoop {
  let interval = options.intervalMs;
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;

  const clear = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const schedule = () => {
    clear();
    if (running && !inflight && options.visible()) timer = setTimeout(tick, interval);
  };
  const tick = () => {
    timer = undefined;
    if (!running || inflight || !options.visible()) return;
    const ctl = new AbortController();
    inflight = ctl;
    void options
      .read(ctl.signal)
      .catch(() => undefined)
      .finally(() => {
        if (inflight === ctl) inflight = undefined;
        if (!ctl.signal.aborted) schedule();
      });
  };
  const abort = () => {
    inflight?.abort();
    inflight = undefined;
  };

  return {
    start() {
      if (running) return;
      running = true;
      tick();
    },
    stop() {
      running = false;
      clear();
      abort();
    },
    visibilityChanged() {
      if (!running) return;
      if (options.visible()) {
        if (!inflight) tick();
      } else {
        clear();
        abort();
      }
    },
    setInterval(ms) {
      interval = ms;
      schedule();
    },
    get busy() {
      return inflight !== undefined;
    },
  };
}
