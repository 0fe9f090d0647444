import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { liveLoop } from './live-loop';

/** A read that ends when the test says so, and remembers whether it was aborted. */
function reads() {
  const calls: { signal: AbortSignal; done: () => void }[] = [];
  const read = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      calls.push({ signal, done: resolve });
    });
  return { calls, read };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('liveLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads at once, then every interval counted from the end of the last read, never two at once', async () => {
    const r = reads();
    const loop = liveLoop({ read: r.read, intervalMs: 5000, visible: () => true });
    loop.start();
    expect(r.calls).toHaveLength(1);
    expect(loop.busy).toBe(true);
    // A slow node: 12 s pass while the first read is still out; no second read starts.
    await vi.advanceTimersByTimeAsync(12_000);
    expect(r.calls).toHaveLength(1);
    r.calls[0]?.done();
    await flush();
    expect(loop.busy).toBe(false);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(r.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.calls).toHaveLength(2);
    loop.stop();
    expect(r.calls[1]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.calls).toHaveLength(2);
  });

  it('stops while the page is hidden and reads again as soon as it is shown', async () => {
    const r = reads();
    let visible = true;
    const loop = liveLoop({ read: r.read, intervalMs: 5000, visible: () => visible });
    loop.start();
    visible = false;
    loop.visibilityChanged();
    expect(r.calls[0]?.signal.aborted).toBe(true);
    r.calls[0]?.done();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.calls).toHaveLength(1);
    visible = true;
    loop.visibilityChanged();
    expect(r.calls).toHaveLength(2);
    loop.stop();
  });

  it('keeps going after a failed read, and takes a new interval at once', async () => {
    let n = 0;
    const loop = liveLoop({
      read: async () => {
        n++;
        throw new Error('node1: connection refused');
      },
      intervalMs: 5000,
      visible: () => true,
    });
    loop.start();
    await flush();
    loop.setInterval(2000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(n).toBe(2);
    loop.stop();
  });
});
