// What the engineer is looking at: the NodePort picked in the list, the node whose path is drawn,
// that path (read from the node's last discover), a chain's rules, and the live trace.
import { create } from 'zustand';
import type { ChainRulesView, NodePortView, TraceResponse } from '../../../shared/api';
import type { Protocol } from '../../../shared/vocabulary';
import { api } from '../api/client';
import { useNodes } from '../nodes/nodes-store';

export interface SelectionStore {
  readonly filter: string;
  readonly selected?: string;
  readonly node?: string;
  readonly detail?: NodePortView;
  readonly detailError?: string;
  readonly chain?: ChainRulesView;
  readonly chainError?: string;
  readonly traceSrc: string;
  readonly traceDst: string;
  readonly traceBusy: boolean;
  readonly traceError?: string;
  readonly trace?: TraceResponse;
  setFilter(text: string): void;
  select(key: string | undefined): void;
  setNode(node: string | undefined): void;
  loadDetail(): Promise<void>;
  /** Fresh counters on the same path (live refresh): the trace and the chain shown stay. */
  showCounters(view: NodePortView): void;
  openChain(chain: string | undefined): Promise<void>;
  setTraceInput(src: string, dst: string): void;
  runTrace(): Promise<void>;
  reset(): void;
}

/** The node picker's "every node, counters summed" choice. */
export const ALL = '*';

/** The node a trace or a chain listing runs on: the chosen one, or for ALL the first that serves the port. */
function concreteNode(node: string | undefined, selected: string | undefined): string | undefined {
  if (node !== ALL) return node;
  return useNodes.getState().cluster?.nodePorts.find((p) => `${p.protocol}/${p.port}` === selected)?.nodes[0];
}

export function parseKey(key: string): { protocol: Protocol; port: number } | undefined {
  const m = /^(tcp|udp|sctp)\/(\d{1,5})$/.exec(key);
  return m ? { protocol: m[1] as Protocol, port: Number(m[2]) } : undefined;
}

const cleared = {
  detail: undefined,
  detailError: undefined,
  chain: undefined,
  chainError: undefined,
  trace: undefined,
  traceError: undefined,
};

export const useSelection = create<SelectionStore>()((set, get) => ({
  filter: '',
  traceSrc: '',
  traceDst: '',
  traceBusy: false,

  setFilter: (text) => set({ filter: text }),
  select(key) {
    set({ selected: key, ...cleared });
    void get().loadDetail();
  },
  setNode(node) {
    set({ node, ...cleared });
    void get().loadDetail();
  },

  async loadDetail() {
    const { selected, node } = get();
    const k = selected ? parseKey(selected) : undefined;
    if (!k || !node) return;
    const r = await api.nodePort({ node, port: k.port, protocol: k.protocol });
    if (get().selected !== selected || get().node !== node) return;
    set(
      r.ok
        ? // A trace was made on the previous read: it may no longer be true (a guard applied since).
          { detail: r.value, detailError: undefined, trace: undefined, traceError: undefined }
        : { detail: undefined, detailError: r.error.message },
    );
  },

  showCounters: (view) => set({ detail: view, detailError: undefined }),

  async openChain(chain) {
    const node = concreteNode(get().node, get().selected);
    if (!chain || !node) {
      set({ chain: undefined, chainError: undefined });
      return;
    }
    const r = await api.chainRules({ source: { node }, chain });
    set(r.ok ? { chain: r.value, chainError: undefined } : { chain: undefined, chainError: r.error.message });
  },

  setTraceInput: (src, dst) => set({ traceSrc: src, traceDst: dst }),

  async runTrace() {
    const { selected, traceSrc, traceDst } = get();
    const node = concreteNode(get().node, selected);
    const k = selected ? parseKey(selected) : undefined;
    if (!k || !node) return;
    set({ traceBusy: true, traceError: undefined });
    const r = await api.trace({
      source: { node },
      src: traceSrc.trim(),
      ...(traceDst.trim() ? { dst: traceDst.trim() } : {}),
      dport: k.port,
      protocol: k.protocol,
    });
    set(
      r.ok
        ? { traceBusy: false, trace: r.value }
        : { traceBusy: false, trace: undefined, traceError: r.error.message },
    );
  },

  reset: () => set({ filter: '', selected: undefined, node: undefined, ...cleared }),
}));
