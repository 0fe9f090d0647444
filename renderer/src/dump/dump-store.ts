// Offline analysis of one dump: the engine holds the dump (by id); the window keeps its
// NodePorts, the selection, the filter and the last trace.
import { create } from 'zustand';
import type { InspectResponse, NodePortView, TraceResponse } from '../../../shared/api';
import type { Protocol } from '../../../shared/vocabulary';
import { api } from '../api/client';
import { portKey } from '../nodeports/nodeport-list';

export interface DumpStore {
  readonly dumpName?: string;
  readonly loading: boolean;
  readonly error?: string;
  readonly inspect?: InspectResponse;
  readonly selected?: string;
  /** The selected NodePort's full path, fetched by the dump's id when it is picked. */
  readonly detail?: NodePortView;
  readonly detailError?: string;
  readonly filter: string;
  readonly traceSrc: string;
  readonly traceNode: string;
  readonly traceBusy: boolean;
  readonly traceError?: string;
  readonly trace?: TraceResponse;
  /** A pasted text, or a file (sent as bytes by the transport: no long task on the page). */
  loadDump(source: string | Blob, name: string): Promise<void>;
  select(key: string | undefined): void;
  setFilter(text: string): void;
  setTraceInput(src: string, node: string): void;
  runTrace(np: NodePortView): Promise<void>;
}

export const useDump = create<DumpStore>()((set, get) => ({
  loading: false,
  filter: '',
  traceSrc: '',
  traceNode: '',
  traceBusy: false,

  async loadDump(source, name) {
    set({ loading: true, error: undefined, dumpName: name, trace: undefined, traceError: undefined });
    const r =
      typeof source === 'string'
        ? await api.inspect({ text: source })
        : await api.inspect({ text: '' }, { file: source });
    if (!r.ok) {
      set({ loading: false, error: r.error.message, inspect: undefined, selected: undefined });
      return;
    }
    const first = r.value.nodePorts[0];
    set({ loading: false, inspect: r.value });
    get().select(first ? portKey(first) : undefined);
  },

  select(key) {
    set({
      selected: key,
      detail: undefined,
      detailError: undefined,
      trace: undefined,
      traceError: undefined,
    });
    const inspect = get().inspect;
    const m = key ? /^(tcp|udp|sctp)\/(\d+)$/.exec(key) : null;
    if (!inspect || !m) return;
    void api
      .dumpNodePort({ dumpId: inspect.dumpId, port: Number(m[2]), protocol: m[1] as Protocol })
      .then((r) => {
        if (get().selected !== key || get().inspect !== inspect) return; // the user moved on
        set(r.ok ? { detail: r.value } : { detailError: r.error.message });
      });
  },
  setFilter: (text) => set({ filter: text }),
  setTraceInput: (src, node) => set({ traceSrc: src, traceNode: node }),

  async runTrace(np) {
    const { inspect, traceSrc, traceNode } = get();
    if (!inspect) return;
    set({ traceBusy: true, traceError: undefined });
    const r = await api.trace({
      source: { dumpId: inspect.dumpId },
      src: traceSrc.trim(),
      dst: traceNode.trim(),
      dport: np.port,
      protocol: np.protocol as Protocol,
    });
    set(
      r.ok
        ? { traceBusy: false, trace: r.value }
        : { traceBusy: false, trace: undefined, traceError: r.error.message },
    );
  },
}));

export const selectDumpSelected = (s: DumpStore): NodePortView | undefined =>
  s.detail && portKey(s.detail) === s.selected ? s.detail : undefined;
