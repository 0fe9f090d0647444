// Which screen is up, and the open workspace: the start screen's recent list, open and create.
import { create } from 'zustand';
import type { RecentWorkspaceView, RequestOf, WorkspaceView } from '../../../shared/api';
import { api } from '../api/client';

export type Screen = 'start' | 'workspace' | 'dump';

export interface WorkspaceStore {
  readonly screen: Screen;
  readonly workspace?: WorkspaceView;
  readonly recent: readonly RecentWorkspaceView[];
  readonly opening: boolean;
  readonly error?: string;
  loadStart(): Promise<void>;
  open(path: string): Promise<boolean>;
  create(req: RequestOf<'createWorkspace'>): Promise<boolean>;
  close(): Promise<void>;
  showDump(): void;
  /** A policy or group edit answered with the saved workspace. */
  replace(view: WorkspaceView): void;
}

export const useWorkspace = create<WorkspaceStore>()((set, get) => ({
  screen: 'start',
  recent: [],
  opening: false,

  async loadStart() {
    const [recent, start] = await Promise.all([api.recentWorkspaces({}), api.startWorkspace({})]);
    if (recent.ok) set({ recent: recent.value });
    if (start.ok && start.value && !get().workspace) await get().open(start.value);
  },

  async open(path) {
    set({ opening: true, error: undefined });
    const r = await api.openWorkspace({ path });
    if (!r.ok) {
      set({ opening: false, error: r.error.message });
      return false;
    }
    set({ opening: false, workspace: r.value, screen: 'workspace' });
    return true;
  },

  async create(req) {
    set({ opening: true, error: undefined });
    const r = await api.createWorkspace(req);
    if (!r.ok) {
      set({ opening: false, error: r.error.message });
      return false;
    }
    set({ opening: false, workspace: r.value, screen: 'workspace' });
    return true;
  },

  async close() {
    await api.closeWorkspace({});
    set({ workspace: undefined, screen: 'start' });
    await get().loadStart();
  },

  showDump: () => set({ screen: 'dump', error: undefined }),
  replace: (view) => set({ workspace: view }),
}));
