// What happens on the nodes: the plan beside the list, apply with per-node progress and the
// commit-confirmed countdown, confirm / roll back, verify as a grid, the drift watch, export and
// history. Every long call has its AbortController; Cancel really stops it.
import { create } from 'zustand';
import type {
  ApiEvent,
  ChangeResponse,
  ExportResponse,
  HistoryResponse,
  NodeOutcomeView,
  PlanResponse,
  VerifyResponse,
} from '../../../shared/api';
import { api } from '../api/client';
import { useNodes } from '../nodes/nodes-store';

export type Busy = 'plan' | 'apply' | 'confirm' | 'rollback' | 'remove' | 'verify' | 'export' | 'history';
export type DrawerTab = 'plan' | 'verify' | 'export' | 'history';

export interface RolloutStore {
  readonly tab: DrawerTab;
  readonly busy?: Busy;
  readonly controller?: AbortController;
  readonly error?: string;
  readonly plan?: PlanResponse;
  /** The plan is older than the last policy edit. */
  readonly planStale: boolean;
  readonly phase?: string;
  readonly outcomes: readonly NodeOutcomeView[];
  readonly change?: ChangeResponse;
  /** Epoch ms by which Confirm must come (this machine's clock), while a confirm is pending. */
  readonly confirmBy?: number;
  readonly confirmWithin: number;
  readonly verify?: VerifyResponse;
  readonly watching: boolean;
  readonly watchController?: AbortController;
  readonly exported?: ExportResponse;
  readonly history?: HistoryResponse;
  setTab(tab: DrawerTab): void;
  setConfirmWithin(seconds: number): void;
  markStale(): void;
  runPlan(): Promise<void>;
  apply(): Promise<void>;
  confirm(): Promise<void>;
  rollback(): Promise<void>;
  remove(): Promise<void>;
  /** probe: connect from this machine; probeFrom: also from that node (by SSH). */
  runVerify(probe?: boolean, probeFrom?: string): Promise<void>;
  toggleWatch(): void;
  runExport(dir?: string): Promise<void>;
  loadHistory(): Promise<void>;
  cancel(): void;
  reset(): void;
}

export const useRollout = create<RolloutStore>()((set, get) => {
  /** One long call at a time from the drawer; its events feed the node list and the progress. */
  async function run<T>(busy: Busy, fn: (signal: AbortSignal, onEvent: (e: ApiEvent) => void) => Promise<T>) {
    const controller = new AbortController();
    set({ busy, controller, error: undefined, phase: undefined });
    const onEvent = (e: ApiEvent) => {
      useNodes.getState().onEvent(e);
      if (e.kind === 'phase') set({ phase: e.detail ?? e.phase });
      if (e.kind === 'outcome')
        set((s) => ({ outcomes: [...s.outcomes.filter((o) => o.node !== e.outcome.node), e.outcome] }));
    };
    try {
      return await fn(controller.signal, onEvent);
    } finally {
      if (get().controller === controller) set({ busy: undefined, controller: undefined });
    }
  }

  return {
    tab: 'plan',
    planStale: false,
    outcomes: [],
    confirmWithin: 120,
    watching: false,

    setTab: (tab) => set({ tab }),
    setConfirmWithin: (seconds) => set({ confirmWithin: seconds }),
    markStale: () => set({ planStale: true }),

    async runPlan() {
      const r = await run('plan', (signal, onEvent) => api.plan({}, { signal, onEvent }));
      set(r.ok ? { plan: r.value, planStale: false, tab: 'plan' } : { error: r.error.message });
    },

    async apply() {
      const { confirmWithin, plan } = get();
      set({ outcomes: [], change: undefined });
      const r = await run('apply', (signal, onEvent) =>
        api.apply(
          {
            ...(confirmWithin > 0 ? { confirmWithinSeconds: confirmWithin } : {}),
            ...(plan ? { planHash: plan.planHash } : {}),
          },
          { signal, onEvent },
        ),
      );
      if (!r.ok) {
        set({ error: r.error.message });
        return;
      }
      const pending = r.value.nodes.some((n) => n.rollsBackAt !== undefined);
      set({
        change: r.value,
        outcomes: r.value.nodes,
        planStale: true,
        confirmBy:
          pending && r.value.confirmWithinSeconds
            ? Date.now() + r.value.confirmWithinSeconds * 1000
            : undefined,
        ...(r.value.exitCode !== 0 && r.value.message ? { error: r.value.message } : {}),
      });
      void useNodes.getState().discover();
      void get().runVerify();
    },

    async confirm() {
      const r = await run('confirm', (signal, onEvent) => api.confirm({}, { signal, onEvent }));
      if (!r.ok) set({ error: r.error.message });
      else {
        set({
          confirmBy: undefined,
          ...(r.value.exitCode !== 0 ? { error: r.value.nodes.find((n) => n.message)?.message } : {}),
        });
        // At once in the rows, then a fresh read (one started by apply may have read before this).
        useNodes
          .getState()
          .confirmed(r.value.nodes.filter((n) => n.status === 'confirmed').map((n) => n.node));
        void useNodes.getState().discover();
      }
    },

    async rollback() {
      set({ outcomes: [] });
      const r = await run('rollback', (signal, onEvent) => api.rollback({}, { signal, onEvent }));
      set(
        r.ok
          ? { change: r.value, outcomes: r.value.nodes, confirmBy: undefined, planStale: true }
          : { error: r.error.message },
      );
      if (r.ok) {
        void useNodes.getState().discover();
        void get().runVerify();
      }
    },

    async remove() {
      set({ outcomes: [] });
      const r = await run('remove', (signal, onEvent) => api.remove({}, { signal, onEvent }));
      set(
        r.ok
          ? { change: r.value, outcomes: r.value.nodes, confirmBy: undefined, planStale: true }
          : { error: r.error.message },
      );
      if (r.ok) void useNodes.getState().discover();
    },

    async runVerify(probe = false, probeFrom?: string) {
      const r = await run('verify', (signal, onEvent) =>
        api.verify({ probe, ...(probeFrom ? { probeFrom } : {}) }, { signal, onEvent }),
      );
      set(r.ok ? { verify: r.value } : { error: r.error.message });
    },

    toggleWatch() {
      const { watchController } = get();
      if (watchController) {
        watchController.abort();
        set({ watching: false, watchController: undefined });
        return;
      }
      const controller = new AbortController();
      set({ watching: true, watchController: controller });
      void api
        .watch(
          { periodSeconds: 5 },
          {
            signal: controller.signal,
            onEvent: (e) => {
              if (e.kind === 'verify') set({ verify: e.result });
            },
          },
        )
        .then((r) => {
          if (get().watchController === controller) set({ watching: false, watchController: undefined });
          if (!r.ok && r.error.code !== 'cancelled') set({ error: r.error.message });
        });
    },

    async runExport(dir) {
      const r = await run('export', (signal, onEvent) => api.export(dir ? { dir } : {}, { signal, onEvent }));
      set(r.ok ? { exported: r.value } : { error: r.error.message });
    },

    async loadHistory() {
      const r = await run('history', () => api.history({}));
      set(r.ok ? { history: r.value } : { error: r.error.message });
    },

    cancel: () => get().controller?.abort(),
    reset() {
      get().controller?.abort();
      get().watchController?.abort();
      set({
        busy: undefined,
        controller: undefined,
        error: undefined,
        plan: undefined,
        planStale: false,
        outcomes: [],
        change: undefined,
        confirmBy: undefined,
        verify: undefined,
        watching: false,
        watchController: undefined,
        exported: undefined,
        history: undefined,
      });
    },
  };
});
