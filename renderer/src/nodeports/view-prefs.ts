// How the engineer likes the path drawn (diagram or text, ClusterIP row): kept while they move
// from NodePort to NodePort, so a choice is made once.
import { create } from 'zustand';

export interface ViewPrefs {
  readonly asText: boolean;
  readonly clusterIp: boolean;
  setAsText(v: boolean): void;
  setClusterIp(v: boolean): void;
}

export const useViewPrefs = create<ViewPrefs>()((set) => ({
  asText: false,
  clusterIp: false,
  setAsText: (v) => set({ asText: v }),
  setClusterIp: (v) => set({ clusterIp: v }),
}));
