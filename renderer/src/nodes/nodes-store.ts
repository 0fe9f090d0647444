// The nodes of the open workspace: each node's state as it answers (never one global spinner),
// the cluster's NodePorts merged across nodes, and host-key questions waiting for the user.
import { create } from 'zustand';
import type {
  ApiEvent,
  CredentialPromptView,
  DiscoverResponse,
  HostKeyAcceptedView,
  HostKeyPromptView,
  NodeStatusView,
} from '../../../shared/api';
import { api } from '../api/client';

export interface NodesStore {
  readonly statuses: Readonly<Record<string, NodeStatusView>>;
  readonly cluster?: DiscoverResponse;
  readonly discovering: boolean;
  readonly error?: string;
  readonly prompts: readonly HostKeyPromptView[];
  /** Passphrase and password questions. The answer itself is never kept in the store. */
  readonly credentials: readonly CredentialPromptView[];
  /** One line under the credential questions (e.g. "used for this session but not remembered: …"). */
  readonly credentialNote?: string;
  /** Host keys trusted on first use, by node: shown in that node's row with the fingerprint. */
  readonly accepted: Readonly<Record<string, readonly HostKeyAcceptedView[]>>;
  readonly controller?: AbortController;
  discover(): Promise<void>;
  cancel(): void;
  answer(requestId: string, decision: 'once' | 'always' | 'reject'): Promise<void>;
  /** `secret` null skips: the key is not offered, the password not sent. */
  answerCredential(requestId: string, secret: string | null, remember: boolean): Promise<void>;
  reset(): void;
  /** These nodes' pending changes were confirmed: their rows stop saying so without a new read. */
  confirmed(nodes: readonly string[]): void;
  /** Events of other long calls (plan, apply) that carry node states or host-key questions. */
  onEvent(e: ApiEvent): void;
}

export const useNodes = create<NodesStore>()((set, get) => ({
  statuses: {},
  discovering: false,
  prompts: [],
  credentials: [],
  accepted: {},

  confirmed(nodes) {
    set((s) => {
      const statuses = { ...s.statuses };
      for (const node of nodes) {
        const st = statuses[node];
        if (!st?.summary?.pending) continue;
        const { pending: _gone, ...summary } = st.summary;
        statuses[node] = { ...st, summary };
      }
      return { statuses };
    });
  },

  onEvent(e) {
    if (e.kind === 'node') set((s) => ({ statuses: { ...s.statuses, [e.status.node]: e.status } }));
    // The engine sends a question to every call following the nodes: keep each once.
    else if (e.kind === 'host-key')
      set((s) =>
        s.prompts.some((p) => p.requestId === e.prompt.requestId) ? s : { prompts: [...s.prompts, e.prompt] },
      );
    else if (e.kind === 'credential')
      set((s) =>
        s.credentials.some((p) => p.requestId === e.prompt.requestId)
          ? s
          : { credentials: [...s.credentials, e.prompt], credentialNote: undefined },
      );
    else if (e.kind === 'host-key-accepted')
      set((s) => ({
        accepted: { ...s.accepted, [e.accepted.node]: [...(s.accepted[e.accepted.node] ?? []), e.accepted] },
      }));
  },

  async discover() {
    get().controller?.abort();
    const controller = new AbortController();
    set({ discovering: true, error: undefined, controller });
    const r = await api.discover({ refresh: true }, { signal: controller.signal, onEvent: get().onEvent });
    if (get().controller !== controller) return; // a newer discover took over
    if (r.ok) {
      const statuses = Object.fromEntries(r.value.nodes.map((n) => [n.node, n]));
      set({
        discovering: false,
        cluster: r.value,
        statuses,
        controller: undefined,
        prompts: [],
        credentials: [],
      });
    } else {
      set({
        discovering: false,
        controller: undefined,
        prompts: [],
        credentials: [],
        error:
          r.error.code === 'cancelled'
            ? 'Discover cancelled: the nodes below show what had answered.'
            : r.error.message,
      });
    }
  },

  cancel() {
    get().controller?.abort();
  },

  async answer(requestId, decision) {
    set((s) => ({ prompts: s.prompts.filter((p) => p.requestId !== requestId) }));
    const r = await api.hostKeyDecision({ requestId, decision });
    if (!r.ok) set({ error: r.error.message });
  },

  async answerCredential(requestId, secret, remember) {
    set((s) => ({ credentials: s.credentials.filter((p) => p.requestId !== requestId) }));
    const r = await api.credentialAnswer({ requestId, secret, remember });
    if (!r.ok) set({ credentialNote: r.error.message });
  },

  reset: () => {
    get().controller?.abort();
    set({
      statuses: {},
      cluster: undefined,
      discovering: false,
      error: undefined,
      prompts: [],
      credentials: [],
      credentialNote: undefined,
      accepted: {},
      controller: undefined,
    });
  },
}));
