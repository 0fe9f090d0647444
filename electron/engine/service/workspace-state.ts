// The open workspace of the UI's engine: the file as read, its fleet session (connections stay
// open between calls, so a click does not pay for SSH handshakes), the last read of every node,
// and the host-key questions waiting for a person. One workspace at a time, like a window.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type {
  ApiEvent,
  CredentialPromptView,
  EngineCall,
  HostKeyPromptView,
  WorkspaceView,
} from '../../../shared/api.js';
import type { Workspace } from '../../../shared/workspace/schema.js';
import type { HostKeyAccepted, HostKeyDecision, HostKeySubject, SshHop } from '../../fleet/index.js';
import { type LocalStore, localStore } from '../local-store.js';
import { openSession, type Session } from '../session.js';
import type { NodeSnapshot } from '../snapshot.js';
import { type LoadedWorkspace, loadWorkspace, saveWorkspace } from '../workspace-file.js';

export function workspaceView(loaded: LoadedWorkspace): WorkspaceView {
  const ws = loaded.workspace;
  return {
    path: loaded.path,
    name: basename(loaded.path).replace(/\.ya?ml$/i, ''),
    nodes: ws.inventory.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      ...(n.port !== undefined ? { port: n.port } : {}),
      ...((n.user ?? ws.inventory.defaults?.user) ? { user: n.user ?? ws.inventory.defaults?.user } : {}),
      ...(n.proxyJump ? { proxyJump: n.proxyJump } : {}),
    })),
    policy: ws.policy.nodePorts.map((p) => ({
      port: p.port,
      protocol: p.protocol,
      mode: p.mode,
      blackholePort: p.blackholePort,
      ...(p.service ? { service: p.service } : {}),
      allow: p.allow.map((a) => ({ cidr: a.cidr, ...(a.label ? { label: a.label } : {}) })),
    })),
    guardBackend: ws.policy.guardBackend ?? 'iptables',
    guardAnyway: ws.cluster?.guardAnyway ?? [],
    groups: (ws.groups ?? []).map((g) => ({
      name: g.name,
      entries: g.entries.map((a) => ({ cidr: a.cidr, ...(a.label ? { label: a.label } : {}) })),
    })),
    podCidrs: ws.cluster?.podCidrs ?? [],
    healthCheckRanges: ws.cluster?.healthCheckRanges ?? [],
  };
}

interface PendingPrompt {
  readonly view: HostKeyPromptView;
  readonly resolve: (d: HostKeyDecision) => void;
}

interface PendingCredential {
  readonly view: CredentialPromptView;
  readonly resolve: (secret: string | undefined) => void;
}

/** Said with every credential question; the Electron main process replaces it where it can remember. */
const REMEMBER_REFUSAL = 'remembering needs the desktop app (the OS keychain); asked again next time';

/** How long a host-key or credential question waits for a person before it is refused. */
const PROMPT_TIMEOUT_MS = 10 * 60_000;

export class WorkspaceState {
  private loadedWs: LoadedWorkspace | undefined;
  private sessionP: Promise<Session> | undefined;
  private readonly prompts = new Map<string, PendingPrompt>();
  private readonly credentialPrompts = new Map<string, PendingCredential>();
  /** Keys trusted "once": for this app session, not recorded (a reconnect does not ask again). */
  private readonly trustedOnce = new Set<string>();
  /** Emit of the call that is working on the nodes now: where host-key questions go. */
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  readonly snapshots = new Map<string, NodeSnapshot>();
  readAt: string | undefined;

  get loaded(): LoadedWorkspace | undefined {
    return this.loadedWs;
  }

  require(what: string): LoadedWorkspace {
    if (!this.loadedWs) throw new NoWorkspace(`${what}: no workspace is open; open or create one first`);
    return this.loadedWs;
  }

  store(): LocalStore {
    const l = this.require('local state');
    return localStore(l.path);
  }

  async open(path: string): Promise<{ ok: true; view: WorkspaceView } | { ok: false; message: string }> {
    const r = await loadWorkspace(path);
    if (!r.ok) return r;
    await this.close();
    // "Trust once" holds for one opening of one workspace: another file may name other hosts.
    this.trustedOnce.clear();
    this.loadedWs = r.value;
    return { ok: true, view: workspaceView(r.value) };
  }

  /** Replace the workspace file with `next` (atomic; refused if someone else changed the file). */
  async save(next: Workspace): Promise<{ ok: true; view: WorkspaceView } | { ok: false; message: string }> {
    const loaded = this.require('save');
    const saved = await saveWorkspace(loaded, next);
    if (!saved.ok) return saved;
    const again = await loadWorkspace(loaded.path);
    if (!again.ok) return again;
    const inventoryChanged =
      JSON.stringify(again.value.workspace.inventory) !== JSON.stringify(loaded.workspace.inventory);
    this.loadedWs = again.value;
    if (inventoryChanged) await this.closeSession();
    return { ok: true, view: workspaceView(again.value) };
  }

  async close(): Promise<void> {
    await this.closeSession();
    this.loadedWs = undefined;
    this.snapshots.clear();
    this.readAt = undefined;
  }

  private async closeSession(): Promise<void> {
    const s = this.sessionP;
    this.sessionP = undefined;
    for (const p of this.prompts.values()) p.resolve('reject');
    this.prompts.clear();
    for (const p of [...this.credentialPrompts.values()]) p.resolve(undefined);
    if (s) await s.then((x) => x.close()).catch(() => undefined);
  }

  /** The fleet session, opened on first use; host-key questions go to the calls following it. */
  async session(): Promise<Session> {
    const loaded = this.require('connect');
    this.sessionP ??= openSession(loaded, {
      onUnknownHostKey: (subject, fingerprint, keyType) => this.ask(subject, fingerprint, keyType),
      onHostKeyAccepted: (e) => this.announce(e),
      credentials: {
        getPassphrase: (keyPath, retry) =>
          this.askCredential({
            kind: 'passphrase',
            subject: keyPath,
            secretName: `passphrase:${keyPath}`,
            retry,
          }),
        getPassword: (hop: SshHop, node: string) => {
          const subject = `${hop.user}@${hop.host}:${hop.port}`;
          return this.askCredential({
            kind: 'password',
            node,
            subject,
            secretName: `password:${subject}`,
            retry: false,
          });
        },
      },
    }).then((r) => {
      if (!r.ok) {
        this.sessionP = undefined;
        throw new Error(r.message);
      }
      return r.session;
    });
    return this.sessionP;
  }

  /** While `call` runs, host-key questions are sent to it as events. */
  follow<T>(call: EngineCall, fn: () => Promise<T>): Promise<T> {
    this.listeners.add(call.emit);
    return fn().finally(() => {
      this.listeners.delete(call.emit);
      // Nobody is left to answer: refuse the open questions rather than leave connections hanging.
      if (this.listeners.size === 0) {
        for (const p of [...this.prompts.values()]) p.resolve('reject');
        for (const p of [...this.credentialPrompts.values()]) p.resolve(undefined);
      }
    });
  }

  /**
   * A passphrase or password from the person at the window; undefined when skipped or unanswered.
   * The fleet loads each key once (KeyStore), so many nodes behind one key ask once.
   */
  private askCredential(
    q: Pick<CredentialPromptView, 'kind' | 'subject' | 'secretName' | 'retry' | 'node'>,
  ): Promise<string | undefined> {
    if (this.listeners.size === 0) return Promise.resolve(undefined);
    const view: CredentialPromptView = {
      requestId: randomUUID(),
      ...q,
      canRemember: false,
      rememberRefusal: REMEMBER_REFUSAL,
    };
    return new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), PROMPT_TIMEOUT_MS);
      const settle = (secret: string | undefined) => {
        clearTimeout(timer);
        this.credentialPrompts.delete(view.requestId);
        resolve(secret);
      };
      this.credentialPrompts.set(view.requestId, { view, resolve: settle });
      for (const emit of this.listeners) emit({ kind: 'credential', prompt: view });
    });
  }

  /** False when the question was already answered or has expired. */
  answerCredential(requestId: string, secret: string | null): boolean {
    const p = this.credentialPrompts.get(requestId);
    if (!p) return false;
    p.resolve(secret ?? undefined);
    return true;
  }

  private ask(subject: HostKeySubject, fingerprint: string, keyType: string): Promise<HostKeyDecision> {
    const onceKey = `${subject.host}:${subject.port} ${fingerprint}`;
    if (this.trustedOnce.has(onceKey)) return Promise.resolve('accept-once');
    if (this.listeners.size === 0) return Promise.resolve('reject');
    const view: HostKeyPromptView = {
      requestId: randomUUID(),
      node: subject.role === 'node' ? subject.name : subject.forNode,
      host: subject.host,
      port: subject.port,
      role: subject.role,
      fingerprint,
      keyType,
    };
    return new Promise<HostKeyDecision>((resolve) => {
      const timer = setTimeout(() => settle('reject'), PROMPT_TIMEOUT_MS);
      const settle = (d: HostKeyDecision) => {
        clearTimeout(timer);
        this.prompts.delete(view.requestId);
        if (d === 'accept-once') this.trustedOnce.add(onceKey);
        resolve(d);
      };
      this.prompts.set(view.requestId, { view, resolve: settle });
      for (const emit of this.listeners) emit({ kind: 'host-key', prompt: view });
    });
  }

  /** A key trusted on first use is shown with its fingerprint to whoever follows the nodes now. */
  private announce(e: HostKeyAccepted): void {
    const s = e.subject;
    for (const emit of this.listeners)
      emit({
        kind: 'host-key-accepted',
        accepted: {
          node: s.role === 'node' ? s.name : s.forNode,
          host: s.host,
          port: s.port,
          role: s.role,
          fingerprint: e.fingerprint,
          keyType: e.keyType,
          recorded: e.recorded,
          message: e.message,
        },
      });
  }

  decide(requestId: string, decision: 'once' | 'always' | 'reject'): boolean {
    const p = this.prompts.get(requestId);
    if (!p) return false;
    p.resolve(decision === 'once' ? 'accept-once' : decision === 'always' ? 'accept-and-record' : 'reject');
    return true;
  }
}

export class NoWorkspace extends Error {}
