// App state: a few slices, updated only through `set`, read through the named selectors below.
import { create } from 'zustand';
import type { InspectResponse, NodePortView, NpgApi, TraceResponse } from '../../../shared/api';

export interface DumpSlice {
  readonly dumpName?: string;
  readonly dumpText?: string;
  readonly loading: boolean;
  readonly error?: string;
  readonly inspect?: InspectResponse;
  loadDump(api: NpgApi, text: string, name: string): Promise<void>;
}

export interface SelectionSlice {
  readonly selected?: string;
  readonly filter: string;
  select(key: string | undefined): void;
  setFilter(text: string): void;
}

export interface TraceSlice {
  readonly traceSrc: string;
  readonly traceNode: string;
  readonly traceBusy: boolean;
  readonly traceError?: string;
  readonly trace?: TraceResponse;
  setTraceInput(src: string, node: string): void;
  runTrace(api: NpgApi, np: NodePortView): Promise<void>;
}

export type AppState = DumpSlice & SelectionSlice & TraceSlice;

export const nodePortKey = (np: Pick<NodePortView, 'port' | 'protocol'>): string =>
  `${np.protocol}/${np.port}`;

export const useApp = create<AppState>()((set, get) => ({
  loading: false,
  filter: '',
  traceSrc: '',
  traceNode: '',
  traceBusy: false,

  async loadDump(api, text, name) {
    set({
      loading: true,
      error: undefined,
      dumpName: name,
      dumpText: text,
      trace: undefined,
      traceError: undefined,
    });
    const r = await api.inspect({ text });
    if (!r.ok) {
      set({ loading: false, error: r.error.message, inspect: undefined, selected: undefined });
      return;
    }
    const first = r.value.nodePorts[0];
    set({ loading: false, inspect: r.value, selected: first ? nodePortKey(first) : undefined });
  },

  select: (key) => set({ selected: key, trace: undefined, traceError: undefined }),
  setFilter: (text) => set({ filter: text }),
  setTraceInput: (src, node) => set({ traceSrc: src, traceNode: node }),

  async runTrace(api, np) {
    const { dumpText, traceSrc, traceNode } = get();
    if (!dumpText) return;
    set({ traceBusy: true, traceError: undefined });
    const r = await api.trace({
      text: dumpText,
      src: traceSrc.trim(),
      dst: traceNode.trim(),
      dport: np.port,
      protocol: np.protocol as 'tcp' | 'udp' | 'sctp',
    });
    set(
      r.ok
        ? { traceBusy: false, trace: r.value }
        : { traceBusy: false, trace: undefined, traceError: r.error.message },
    );
  },
}));

export const selectNodePorts = (s: AppState): readonly NodePortView[] => s.inspect?.nodePorts ?? [];
export const selectSelected = (s: AppState): NodePortView | undefined =>
  s.inspect?.nodePorts.find((np) => nodePortKey(np) === s.selected);
