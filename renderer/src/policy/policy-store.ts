// The allow-list being edited, per NodePort: a draft of chips until it is saved to the workspace
// (atomically, by the engine), the sources seen on the nodes for that port, and what saving said.
import { create } from 'zustand';
import type { AllowEntryView, ObservedSourceView, WorkspaceView } from '../../../shared/api';
import { api } from '../api/client';
import { parseKey } from '../nodeports/selection-store';
import { useWorkspace } from '../workspace/workspace-store';

export interface Draft {
  readonly entries: readonly AllowEntryView[];
  readonly mode: 'enforce' | 'audit';
}

export interface PolicyStore {
  readonly drafts: Readonly<Record<string, Draft>>;
  readonly observed: Readonly<Record<string, readonly ObservedSourceView[]>>;
  readonly observedBusy: Readonly<Record<string, boolean>>;
  readonly observedError: Readonly<Record<string, string | undefined>>;
  readonly saving: boolean;
  readonly error?: string;
  readonly notes: readonly string[];
  readonly warnings: readonly string[];
  edit(key: string, draft: Draft): void;
  discard(key: string): void;
  save(key: string, service?: string): Promise<boolean>;
  unguard(key: string): Promise<boolean>;
  loadObserved(key: string): Promise<void>;
  saveGroup(name: string, entries: readonly AllowEntryView[]): Promise<void>;
  reset(): void;
}

/** The saved policy of a port as a draft (what the editor shows before any edit). */
export function savedDraft(ws: WorkspaceView | undefined, key: string): Draft | undefined {
  const k = parseKey(key);
  const p = k && ws?.policy.find((x) => x.port === k.port && x.protocol === k.protocol);
  return p ? { entries: p.allow, mode: p.mode } : undefined;
}

export function sameDraft(a: Draft | undefined, b: Draft | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export const usePolicy = create<PolicyStore>()((set, get) => ({
  drafts: {},
  observed: {},
  observedBusy: {},
  observedError: {},
  saving: false,
  notes: [],
  warnings: [],

  edit: (key, draft) => set((s) => ({ drafts: { ...s.drafts, [key]: draft }, error: undefined })),
  discard: (key) =>
    set((s) => {
      const { [key]: _gone, ...rest } = s.drafts;
      return { drafts: rest, error: undefined };
    }),

  async save(key, service) {
    const k = parseKey(key);
    const draft = get().drafts[key];
    if (!k || !draft) return false;
    set({ saving: true, error: undefined });
    const r = await api.setPolicy({
      port: k.port,
      protocol: k.protocol,
      allow: draft.entries.map((e) => ({ cidr: e.cidr, ...(e.label ? { label: e.label } : {}) })),
      // The editor shows an empty list as "every source would be blocked" before it is saved.
      ...(draft.entries.length === 0 ? { allowEmpty: true } : {}),
      mode: draft.mode,
      ...(service ? { service } : {}),
    });
    if (!r.ok) {
      set({ saving: false, error: r.error.message });
      return false;
    }
    useWorkspace.getState().replace(r.value.workspace);
    get().discard(key);
    set({ saving: false, notes: r.value.notes, warnings: r.value.warnings });
    return true;
  },

  async unguard(key) {
    const k = parseKey(key);
    if (!k) return false;
    const r = await api.dropPolicy({ port: k.port, protocol: k.protocol });
    if (!r.ok) {
      set({ error: r.error.message });
      return false;
    }
    useWorkspace.getState().replace(r.value.workspace);
    get().discard(key);
    return true;
  },

  async loadObserved(key) {
    const k = parseKey(key);
    if (!k) return;
    set((s) => ({ observedBusy: { ...s.observedBusy, [key]: true } }));
    const r = await api.observedSources({ port: k.port, protocol: k.protocol });
    set((s) => ({
      observedBusy: { ...s.observedBusy, [key]: false },
      observed: r.ok ? { ...s.observed, [key]: r.value.sources } : s.observed,
      observedError: {
        ...s.observedError,
        [key]: r.ok ? (r.value.errors[0] ?? undefined) : r.error.message,
      },
    }));
  },

  async saveGroup(name, entries) {
    const r = await api.saveGroup({
      name,
      entries: entries.map((e) => ({ cidr: e.cidr, ...(e.label ? { label: e.label } : {}) })),
    });
    if (r.ok) useWorkspace.getState().replace(r.value);
    else set({ error: r.error.message });
  },

  reset: () =>
    set({
      drafts: {},
      observed: {},
      observedBusy: {},
      observedError: {},
      error: undefined,
      notes: [],
      warnings: [],
    }),
}));
