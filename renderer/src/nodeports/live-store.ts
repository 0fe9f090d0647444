// Live counters of the NodePort being looked at: whether they refresh and how often, the last
// read, what moved since the one before, and a failed read's error (the last counters stay, stale).
import { create } from 'zustand';
import type { NodePortView } from '../../../shared/api';
import { api } from '../api/client';
import { useNodes } from '../nodes/nodes-store';
import { type CounterDelta, counterDelta, DEFAULT_INTERVAL_MS } from './live-counters';
import { parseKey, useSelection } from './selection-store';

export interface LiveStore {
  readonly on: boolean;
  readonly intervalMs: number;
  readonly busy: boolean;
  /** The NodePort and node (`tcp/30001@node1`) that what follows was read for. */
  readonly forKey?: string;
  /** When the counters shown were read (ISO 8601); undefined: those of the last discover. */
  readonly readAt?: string;
  readonly delta?: CounterDelta;
  /** The last read failed: its one line. The counters shown are older (stale). */
  readonly error?: string;
  /** Nodes left out of the last read (one line each). */
  readonly partial: readonly string[];
  /** The counters the next delta is taken from, for one NodePort on one node. */
  readonly base?: { readonly key: string; readonly view: NodePortView; readonly at: number };
  setOn(on: boolean): void;
  setIntervalMs(ms: number): void;
  /** One read of the selected NodePort's counters; the caller makes sure reads do not overlap. */
  read(signal: AbortSignal): Promise<void>;
  reset(): void;
}

const fresh = {
  busy: false,
  readAt: undefined,
  delta: undefined,
  error: undefined,
  partial: [],
  base: undefined,
};

/** `tcp/30001@node1`: what a read was for; the bar shows the store's words only for the same key. */
export const liveKey = (selected: string | undefined, node: string | undefined) =>
  selected && node ? `${selected}@${node}` : undefined;

export const useLive = create<LiveStore>()((set, get) => ({
  on: true,
  intervalMs: DEFAULT_INTERVAL_MS,
  ...fresh,

  setOn: (on) => set({ on }),
  setIntervalMs: (ms) => set({ intervalMs: ms }),

  async read(signal) {
    const sel = useSelection.getState();
    const { selected, node, detail } = sel;
    const k = selected ? parseKey(selected) : undefined;
    if (!k || !node || !detail) return;
    const key = `${selected}@${node}`;
    set({ busy: true });
    const r = await api.nodePortCounters({ node, port: k.port, protocol: k.protocol }, { signal });
    const now = useSelection.getState();
    if (signal.aborted || now.selected !== selected || now.node !== node) {
      set({ busy: false });
      return;
    }
    if (!r.ok) {
      set({
        busy: false,
        forKey: key,
        error: r.error.message,
        ...(get().forKey === key ? {} : { delta: undefined }),
      });
      return;
    }
    // A read asked before the nodes were read again answers on the old path: the next one will not.
    if (now.detail && !counterDelta(now.detail, r.value.view, 0)) {
      set({ busy: false });
      return;
    }
    const at = Date.parse(r.value.readAt);
    const discoveredAt = Date.parse(useNodes.getState().cluster?.readAt ?? '');
    // The newest earlier counters of the same path: the last live read, or a discover made since
    // (after an apply the path changes, and the discover's counters are the ones to compare with).
    const prev = get().base;
    const bases = [
      ...(prev?.key === key ? [prev] : []),
      { view: detail, at: Number.isNaN(discoveredAt) ? at : discoveredAt },
    ].sort((a, b) => b.at - a.at);
    let delta: CounterDelta | undefined;
    for (const b of bases) {
      delta = counterDelta(b.view, r.value.view, (at - b.at) / 1000);
      if (delta) break;
    }
    now.showCounters(r.value.view);
    set({
      busy: false,
      forKey: key,
      error: undefined,
      readAt: r.value.readAt,
      partial: r.value.failed,
      delta,
      base: { key, view: r.value.view, at },
    });
  },

  reset: () => set({ on: true, intervalMs: DEFAULT_INTERVAL_MS, ...fresh }),
}));
