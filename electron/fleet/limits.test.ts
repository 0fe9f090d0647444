import { describe, expect, it } from 'vitest';
import { NodeGate, Semaphore } from './limits';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('Semaphore', () => {
  it('admits at most limit holders, first come first served, and drops aborted waiters', async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    const b = await sem.acquire();
    const order: string[] = [];
    const ac = new AbortController();
    const c = sem.acquire(ac.signal).then((r) => {
      order.push(r ? 'c' : 'c-aborted');
      return r;
    });
    const d = sem.acquire().then((r) => {
      order.push('d');
      return r;
    });
    await tick();
    expect(order).toEqual([]);
    ac.abort();
    await tick();
    a?.();
    await d;
    expect(order).toEqual(['c-aborted', 'd']);
    expect(await c).toBeUndefined();
    b?.();
  });
});

describe('NodeGate', () => {
  it('counts busy nodes, not commands, and frees the slot when the node is idle', async () => {
    const gate = new NodeGate(1);
    const a1 = await gate.enter('a');
    const a2 = await gate.enter('a'); // same node: no second slot needed
    expect(a2).toBeDefined();
    let bIn = false;
    const b = gate.enter('b').then((r) => {
      bIn = true;
      return r;
    });
    await tick();
    expect(bIn).toBe(false);
    a1?.();
    await tick();
    expect(bIn).toBe(false);
    a2?.();
    (await b)?.();
    expect(bIn).toBe(true);
  });

  it('gives up waiting when the signal aborts', async () => {
    const gate = new NodeGate(1);
    const a = await gate.enter('a');
    const ac = new AbortController();
    const b = gate.enter('b', ac.signal);
    ac.abort();
    expect(await b).toBeUndefined();
    a?.();
    const c = await gate.enter('c');
    expect(c).toBeDefined();
  });
});
