// The engine's implementation of shared/api.ts: a table of contents over the use cases in
// service/. Requests arrive parsed (the host's dispatcher checked them against the contract);
// errors go back as data, one line naming what and where.
import { stat } from 'node:fs/promises';
import type { EngineApi } from '../../shared/api.js';
import { DumpStore } from './service/dumps.js';
import { nodePortCounters } from './service/live-counters.js';
import { chainRulesOnNode, discover, nodePort, observedSources, traceOnNode } from './service/nodes.js';
import {
  deleteGroup,
  dropPolicy,
  saveGroup,
  setGuardAnyway,
  setGuardBackend,
  setPolicy,
} from './service/policy.js';
import { exportGuard, history } from './service/record.js';
import { badInput, failed, ok } from './service/results.js';
import { change, confirm, plan, verify, watch } from './service/rollout.js';
import {
  createWorkspaceFile,
  readRecent,
  rememberRecent,
  sshConfigHosts,
} from './service/workspace-files.js';
import { NoWorkspace, WorkspaceState } from './service/workspace-state.js';

export interface EngineOptions {
  /** `--workspace FILE` of the web host or the app: the start screen opens it. */
  readonly startWorkspace?: string;
}

/** A missing workspace is the user's next step, not a failure: say so as bad input. */
function guarded<A extends unknown[], T>(fn: (...args: A) => Promise<T>) {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof NoWorkspace) return badInput(err.message);
      throw err;
    }
  };
}

export function createEngineService(options: EngineOptions = {}): EngineApi & { close(): Promise<void> } {
  const dumps = new DumpStore();
  const state = new WorkspaceState();

  const openAndRemember = async (path: string) => {
    const r = await state.open(path);
    if (!r.ok) return badInput(r.message);
    await rememberRecent(r.view.path).catch(() => undefined);
    return ok(r.view);
  };

  const api: EngineApi = {
    inspect: async (req) => dumps.inspect(req),
    dumpNodePort: async (req) => dumps.nodePort(req),
    trace: guarded(async (req) => {
      const { source, ...rest } = req;
      if ('node' in source) return traceOnNode(state, source.node, rest);
      if (!rest.dst) return badInput('trace: dst: the node address is required for a dump');
      return dumps.trace(source.dumpId, { ...rest, dst: rest.dst });
    }),
    chainRules: guarded(async (req) =>
      'node' in req.source
        ? chainRulesOnNode(state, req.source.node, req.chain, req.family)
        : dumps.chainRules(req.source.dumpId, req.chain),
    ),

    // A workspace deleted since is not offered (it would only answer "no such file").
    recentWorkspaces: async () => {
      const list = await readRecent();
      const here = await Promise.all(
        list.map((e) =>
          stat(e.path).then(
            (s) => s.isFile(),
            () => false,
          ),
        ),
      );
      return ok(list.filter((_, i) => here[i]));
    },
    startWorkspace: async () => ok(options.startWorkspace ?? null),
    openWorkspace: async (req) => openAndRemember(req.path),
    createWorkspace: async (req) => {
      const r = await createWorkspaceFile(req);
      return r.ok ? openAndRemember(r.value) : r;
    },
    sshConfigHosts: async () => sshConfigHosts(),
    closeWorkspace: async () => {
      await state.close();
      return ok(null);
    },

    discover: guarded((_req, call) => discover(state, call)),
    hostKeyDecision: async (req) =>
      state.decide(req.requestId, req.decision)
        ? ok(null)
        : badInput('host key question: it was already answered or has expired'),
    // `remember` is the Electron main process's business (host/remembered-secrets.ts); here the
    // secret only answers the waiting connection and is kept nowhere else.
    credentialAnswer: async (req) =>
      state.answerCredential(req.requestId, req.secret)
        ? ok(null)
        : badInput('passphrase question: it was already answered or has expired'),
    nodePort: guarded(async (req) => nodePort(state, req)),
    nodePortCounters: guarded((req, call) => nodePortCounters(state, req, call)),
    observedSources: guarded((req, call) => observedSources(state, req, call)),

    setPolicy: guarded((req) => setPolicy(state, req)),
    setGuardBackend: guarded((req) => setGuardBackend(state, req)),
    setGuardAnyway: guarded((req) => setGuardAnyway(state, req)),
    dropPolicy: guarded((req) => dropPolicy(state, req)),
    saveGroup: guarded((req) => saveGroup(state, req)),
    deleteGroup: guarded((req) => deleteGroup(state, req)),

    plan: guarded((_req, call) => plan(state, call)),
    apply: guarded((req, call) => change(state, 'apply', req, call)),
    confirm: guarded((_req, call) => confirm(state, call)),
    rollback: guarded((req, call) => change(state, 'rollback', req, call)),
    remove: guarded((_req, call) => change(state, 'remove', {}, call)),
    verify: guarded((req, call) => verify(state, req, call)),
    watch: guarded((req, call) => watch(state, req, call)),

    export: guarded((req, call) => exportGuard(state, req.dir, call)),
    history: guarded(() => history(state)),
  };
  void failed;
  return { ...api, close: () => state.close() };
}
