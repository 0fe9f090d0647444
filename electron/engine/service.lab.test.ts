// The UI's whole flow on the running lab, through the host's dispatcher exactly as a transport calls
// it (method name, unchecked payload, a signal and an event sink): host-key questions answered
// while discover runs, a NodePort's path and a trace on a node's read, policy -> plan -> apply with
// commit-confirmed -> confirm -> verify -> real packets, watch catching a kube-proxy restart and
// stopping when cancelled, heal, a stale plan refused, a cancelled plan, export and history.
// Works on a private copy of the lab workspace whose known_hosts starts EMPTY, and removes the
// guard from every node when it ends.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestFunction, vi } from 'vitest';
import { currentLab, type LabTopology, probeLab, restartKubeProxy, workspacePath } from '../../e2e/lab/lab';
import { readState as readLabState } from '../../e2e/lab/state';
import {
  type ApiEvent,
  type ApiMethod,
  type ApiResult,
  checkEvent,
  type HostKeyPromptView,
  type RequestOf,
  type ResponseOf,
  type VerifyResponse,
} from '../../shared/api';
import { createDispatcher, type Dispatch } from '../host/dispatch';
import { createEngineService } from './service';
import { openLabEngine } from './test-support/lab-engine';
import { copyLabWorkspace, type LabWorkspace } from './test-support/lab-workspace';

// In kube-proxy's nftables mode the guard is our nft table (npg-nft-guard.lab.test.ts).
const NFT = (await readLabState())?.options.mode === 'nftables';
const NFT_NOTE = NFT
  ? " (skipped in nftables mode: it asserts kube-proxy's KUBE- chains, NPG- chains or the iptables guard's drift after a kube-proxy restart, which the nft guard does not have)"
  : '';
const itIptables = (name: string, fn: TestFunction, timeout?: number) =>
  it.skipIf(NFT)(`${name}${NFT_NOTE}`, fn, timeout);

type Engine = ReturnType<typeof createEngineService>;
type Decision = 'once' | 'always' | 'reject';

interface Called<M extends ApiMethod> {
  readonly result: ApiResult<ResponseOf<M>>;
  readonly events: readonly ApiEvent[];
  readonly hostKeys: readonly HostKeyPromptView[];
  /** What each hostKeyDecision call made from inside onEvent answered. */
  readonly decisions: readonly ApiResult<unknown>[];
}

interface CallOpts {
  readonly signal?: AbortSignal;
  /** How host-key questions are answered (from inside the event sink, while the call runs). */
  readonly hostKey?: Decision;
  readonly onEvent?: (e: ApiEvent) => void;
}

/** One call as the UI makes it; host-key questions are answered through the same dispatcher. */
async function callOn<M extends ApiMethod>(
  dispatch: Dispatch,
  method: M,
  payload: RequestOf<M>,
  opts: CallOpts = {},
): Promise<Called<M>> {
  const events: ApiEvent[] = [];
  const hostKeys: HostKeyPromptView[] = [];
  const pendingDecisions: Promise<ApiResult<unknown>>[] = [];
  const result = (await dispatch(method, payload, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    emit: (raw) => {
      // The renderer checks every event before it touches a store: do the same.
      const e = checkEvent(raw);
      if (!e) throw new Error(`${method}: an event the renderer would drop: ${JSON.stringify(raw)}`);
      events.push(e);
      if (e.kind === 'host-key') {
        hostKeys.push(e.prompt);
        pendingDecisions.push(
          dispatch('hostKeyDecision', { requestId: e.prompt.requestId, decision: opts.hostKey ?? 'reject' }),
        );
      }
      opts.onEvent?.(e);
    },
  })) as ApiResult<ResponseOf<M>>;
  return { result, events, hostKeys, decisions: await Promise.all(pendingDecisions) };
}

function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let topo: LabTopology;
let ws: LabWorkspace;
const engines: Engine[] = [];
/** The engine the flow runs on (the one whose host-key answer was 'always'). */
let dispatch: Dispatch | undefined;

function newEngine(): Dispatch {
  const e = createEngineService();
  engines.push(e);
  return createDispatcher(e);
}

const api = <M extends ApiMethod>(method: M, payload: RequestOf<M>, opts: CallOpts = {}) => {
  if (!dispatch) throw new Error('the flow engine is not open yet');
  return callOn(dispatch, method, payload, opts);
};

const PORT = 30001;
const ALLOWED = '198.18.100.11';
const BLOCKED = '198.18.100.13';

async function knownHostsLines(): Promise<string[]> {
  return (await readFile(ws.knownHosts, 'utf8')).split('\n').filter((l) => l.trim() !== '');
}

function cell(v: VerifyResponse, node: string, port = PORT, protocol = 'tcp') {
  return v.cells.find((c) => c.node === node && c.port === port && c.protocol === protocol);
}

beforeAll(async () => {
  topo = await currentLab();
  // Start from no guard, whatever an earlier run left (a separate copy, with the lab's known_hosts).
  await (await openLabEngine()).close();
  ws = await copyLabWorkspace(workspacePath());
  await writeFile(ws.knownHosts, '');
  vi.stubEnv('NPG_CONFIG_DIR', join(ws.dir, 'config'));
}, 120_000);

afterAll(async () => {
  try {
    if (dispatch) {
      // A test that stopped between apply and confirm leaves a timer armed: confirm it first, so
      // nothing restores a guard after we removed it.
      await api('confirm', {}).catch(() => undefined);
      const removed = await api('remove', {}).catch((err: Error) => ({ result: err.message }));
      const ok =
        typeof removed.result === 'object' && removed.result.ok && removed.result.value.exitCode === 0;
      if (!ok) await (await openLabEngine()).close();
    }
  } finally {
    for (const e of engines) await e.close().catch(() => undefined);
    vi.unstubAllEnvs();
    await ws?.cleanup();
  }
}, 180_000);

describe('the engine service through the dispatcher, on the lab', () => {
  it('discover asks about every unknown host key while it runs, and reads every node', async () => {
    const first = newEngine();
    const opened = await callOn(first, 'openWorkspace', { path: ws.path });
    expect(value(opened.result).nodes.map((n) => n.name)).toEqual(topo.nodes.map((n) => n.name));

    const d = await callOn(first, 'discover', {}, { hostKey: 'once' });
    const out = value(d.result);
    // One question per node, each naming it, each answered while discover was still running.
    expect(d.hostKeys.map((p) => p.node).sort()).toEqual(topo.nodes.map((n) => n.name).sort());
    for (const p of d.hostKeys) {
      const node = topo.nodes.find((n) => n.name === p.node)!;
      expect(p).toMatchObject({ host: node.ipv4, port: 22, role: 'node' });
      expect(p.fingerprint).toMatch(/^SHA256:/);
    }
    expect(d.decisions).toEqual(d.hostKeys.map(() => ({ ok: true, value: null })));
    // Per node: connecting first, ok last, with a summary.
    for (const node of topo.nodes) {
      const states = d.events.flatMap((e) =>
        e.kind === 'node' && e.status.node === node.name ? [e.status] : [],
      );
      expect(states[0]?.state, node.name).toBe('connecting');
      const last = states.at(-1)!;
      expect(last.state, `${node.name}: ${last.error}`).toBe('ok');
      expect(last.summary).toMatchObject({
        node: node.name,
        mode: topo.options.mode,
        guard: 'none',
        guardChains: 0,
      });
      expect(last.summary!.nodePorts).toBeGreaterThan(0);
      expect(last.summary!.addresses).toContain(node.ipv4);
    }
    expect(out.nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
    const ports = out.nodePorts.map((p) => `${p.port}/${p.protocol}`);
    expect(ports).toEqual(expect.arrayContaining(topo.nodePorts.map((p) => `${p.port}/${p.protocol}`)));
    const web = out.nodePorts.find((p) => p.port === PORT && p.protocol === 'tcp')!;
    expect([...web.nodes].sort()).toEqual(topo.nodes.map((n) => n.name).sort());
    expect(web.guardedOn).toEqual([]);
    // Trusted once: nothing recorded.
    expect(await knownHostsLines()).toEqual([]);

    // The same engine does not ask again while the workspace stays open.
    const again = await callOn(first, 'discover', { refresh: true });
    expect(again.hostKeys).toEqual([]);
    expect(value(again.result).nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
    // "Once" holds for one opening of the workspace: opening it again asks again.
    value((await callOn(first, 'openWorkspace', { path: ws.path })).result);
    const reopened = await callOn(first, 'discover', {}, { hostKey: 'once' });
    expect(reopened.hostKeys.map((p) => p.node).sort()).toEqual(topo.nodes.map((n) => n.name).sort());
    expect(value(reopened.result).nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
    expect(await knownHostsLines()).toEqual([]);
  }, 90_000);

  it('a new engine asks again; "always" records the keys, and the next engine asks nothing', async () => {
    dispatch = newEngine();
    value((await api('openWorkspace', { path: ws.path })).result);
    const d = await api('discover', {}, { hostKey: 'always' });
    expect(d.hostKeys.map((p) => p.node).sort()).toEqual(topo.nodes.map((n) => n.name).sort());
    expect(value(d.result).nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
    expect((await knownHostsLines()).length).toBeGreaterThanOrEqual(topo.nodes.length);

    const third = newEngine();
    value((await callOn(third, 'openWorkspace', { path: ws.path })).result);
    const d3 = await callOn(third, 'discover', {});
    expect(d3.hostKeys).toEqual([]);
    expect(value(d3.result).nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
    value((await callOn(third, 'closeWorkspace', {})).result);
  }, 90_000);

  itIptables("a NodePort's path, a trace and a chain listing on node1's read", async () => {
    const iptablesMode = topo.options.mode === 'iptables';
    const np = value((await api('nodePort', { node: 'node1', port: PORT })).result);
    // ipvs mode: the endpoints live in IPVS, not in the nat rules.
    if (iptablesMode) expect(np.endpoints.length).toBeGreaterThan(0);
    expect(np.path.map((s) => s.chain)).toContain('KUBE-SERVICES');
    expect(np.guarded).toBe(false);

    const t = value((await api('trace', { source: { node: 'node1' }, src: BLOCKED, dport: PORT })).result);
    expect(t.outcomes.length).toBeGreaterThan(0);
    // ipvs mode: nat leaves the packet addressed to the node (IPVS takes it from there).
    for (const o of t.outcomes)
      expect(iptablesMode ? ['dnat'] : ['accept', 'unchanged']).toContain(o.verdict);

    const chain = iptablesMode ? 'KUBE-NODEPORTS' : 'KUBE-NODE-PORT';
    const rules = value((await api('chainRules', { source: { node: 'node1' }, chain })).result);
    expect(rules).toMatchObject({ chain, family: 'ipv4' });
    expect(rules.rules.length).toBeGreaterThan(0);
    expect(rules.rules.map((r) => r.number)).toEqual(rules.rules.map((_, i) => i + 1));
    for (const r of rules.rules) expect(r.text.startsWith(`-A ${chain} `)).toBe(true);

    const missing = await api('nodePort', { node: 'node1', port: 31999 });
    expect(!missing.result.ok && missing.result.error.code).toBe('bad-input');
    const unknown = await api('nodePort', { node: 'node9', port: PORT });
    expect(!unknown.result.ok && unknown.result.error.message).toMatch(/node9: not read yet/);
  });

  itIptables(
    "live counters: a fresh nat read moves node1's counters after real packets, and sums over nodes",
    async () => {
      const before = value((await api('nodePortCounters', { node: 'node1', port: PORT })).result);
      const path = value((await api('nodePort', { node: 'node1', port: PORT })).result);
      // The path is the last discover's; only the counters are new.
      expect(before.view.path.map((s) => s.chain)).toEqual(path.path.map((s) => s.chain));
      expect(before.failed).toEqual([]);
      // The step that counts this port's new connections: its KUBE-NODEPORTS rule (iptables mode),
      // or the KUBE-NODE-PORT jump every NodePort shares (ipvs mode: the port is an ipset member).
      const counts = (s: (typeof before.view.path)[number]) =>
        topo.options.mode === 'iptables' ? s.via?.includes(`--dport ${PORT} `) : s.chain === 'KUBE-NODE-PORT';
      const entry = (v: typeof before.view) =>
        v.path.find((s) => counts(s) && s.packets !== undefined)?.packets ?? -1;
      for (let i = 0; i < 3; i++) await probeLab({ from: BLOCKED, node: 'node1', port: PORT });
      const after = value((await api('nodePortCounters', { node: 'node1', port: PORT })).result);
      expect(entry(after.view)).toBeGreaterThanOrEqual(entry(before.view) + 3);
      expect(Date.parse(after.readAt)).toBeGreaterThanOrEqual(Date.parse(before.readAt));

      const sum = value((await api('nodePortCounters', { node: '*', port: PORT })).result);
      expect(sum.view.notes[0]).toMatch(new RegExp(`^counters summed over ${topo.nodes.length} nodes`));
      expect(entry(sum.view)).toBeGreaterThanOrEqual(entry(after.view));

      const unknown = await api('nodePortCounters', { node: 'node9', port: PORT });
      expect(!unknown.result.ok && unknown.result.error.message).toMatch(/node9: not read yet/);
    },
  );

  it('a discover cancelled mid-way answers cancelled and keeps the last good reads', async () => {
    const ctl = new AbortController();
    const d = await api(
      'discover',
      { refresh: true },
      {
        signal: ctl.signal,
        onEvent: (e) => {
          if (e.kind === 'node' && e.status.state === 'reading') ctl.abort();
        },
      },
    );
    expect(d.result).toEqual({ ok: false, error: { code: 'cancelled', message: 'discover: cancelled' } });
    // What the nodes answered before is still there to look at (not "not read yet").
    const np = value((await api('nodePort', { node: 'node1', port: PORT })).result);
    expect(np.port).toBe(PORT);
    // And the next discover reads every node again.
    const again = value((await api('discover', { refresh: true })).result);
    expect(again.nodes.map((n) => n.state)).toEqual(topo.nodes.map(() => 'ok'));
  });

  let planHash = '';

  it.skipIf(!NFT)(
    `nftables mode: policy, plan, apply with commit-confirmed, confirm, verify through the service; real packets agree${NFT ? '' : ' (skipped: the lab is not in nftables mode)'}`,
    async () => {
      const pol = value((await api('setPolicy', { port: PORT, allow: [{ cidr: ALLOWED }] })).result);
      expect(pol.workspace.policy[0]!.allow.map((a) => a.cidr)).toEqual([`${ALLOWED}/32`]);
      const plan = value((await api('plan', {})).result);
      expect(plan.exitCode).toBe(1);
      for (const n of plan.nodes) {
        expect(n.noop).toBe(false);
        expect(n.errors).toEqual([]);
        expect(n.diff.join('\n')).toMatch(/nft \+ table inet nodeport-guard written whole/);
      }
      const a = await api('apply', { confirmWithinSeconds: 60, planHash: plan.planHash });
      const applied = value(a.result);
      expect(applied).toMatchObject({ op: 'apply', outcome: 'ok', exitCode: 0, confirmWithinSeconds: 60 });
      for (const n of applied.nodes) expect(n.status, n.line).toBe('applied');
      const c = value((await api('confirm', {})).result);
      expect(c.nodes.map((n) => n.status)).toEqual(topo.nodes.map(() => 'confirmed'));
      const v = value((await api('verify', {})).result);
      expect(v.status, JSON.stringify(v)).toBe('ok');
      for (const node of topo.nodes) expect(cell(v, node.name)?.status, node.name).toBe('ok');
      for (const node of topo.nodes) {
        const ok = await probeLab({ from: ALLOWED, node: node.name, port: PORT, timeoutMs: 1500 });
        expect(ok.outcome, `${ALLOWED} -> ${node.name}`).toBe('reached');
        const no = await probeLab({ from: BLOCKED, node: node.name, port: PORT, timeoutMs: 1500 });
        expect(no.outcome, `${BLOCKED} -> ${node.name}`).toBe('refused');
      }
      // A fresh read shows the guard (our table) healthy on every node.
      const d = value((await api('discover', { refresh: true })).result);
      expect(d.nodes.map((n) => n.summary?.guard)).toEqual(topo.nodes.map(() => 'healthy'));
      // The tracer walks the node's read: kube-proxy's table and ours, in netfilter's order.
      const blocked = value(
        (await api('trace', { source: { node: 'node1' }, src: BLOCKED, dport: PORT })).result,
      );
      expect(blocked.outcomes.map((o) => o.verdict)).toEqual(['redirect']);
      expect(blocked.outcomes[0]!.detail).toContain('table inet nodeport-guard');
      const allowed = value(
        (await api('trace', { source: { node: 'node1' }, src: ALLOWED, dport: PORT })).result,
      );
      expect(allowed.outcomes.length).toBeGreaterThan(0);
      expect(allowed.outcomes.every((o) => o.verdict === 'dnat')).toBe(true);
      // A chain of kube-proxy's table, as nft lists it, from the node's read.
      const rules = value(
        (await api('chainRules', { source: { node: 'node1' }, chain: 'services', family: 'ipv4' })).result,
      );
      expect(rules.rules.map((r) => r.text).join('\n')).toContain('@service-nodeports');
    },
    120_000,
  );

  itIptables(
    'policy, plan, apply with commit-confirmed, confirm, verify; real packets agree',
    async () => {
      const v6 = topo.nodes.some((n) => n.ipv6);
      const pol = value(
        (
          await api('setPolicy', {
            port: PORT,
            allow: [
              { cidr: '198.18.100.10/31', label: 'client pair' },
              { cidr: '198.18.100.12' },
              ...(v6 ? [{ cidr: '2001:2::100:0/112', label: 'v6 clients' }] : []),
            ],
          })
        ).result,
      );
      expect(pol.workspace.policy[0]!.allow.map((a) => a.cidr)).toEqual([
        '198.18.100.10/31',
        '198.18.100.12/32',
        ...(v6 ? ['2001:2::100:0/112'] : []),
      ]);

      const p = await api('plan', {});
      const plan = value(p.result);
      expect(p.events.some((e) => e.kind === 'phase' && e.phase === 'planned')).toBe(true);
      expect(plan.exitCode).toBe(1);
      expect(plan.unplanned).toEqual([]);
      expect(plan.nodes.map((n) => n.node)).toEqual(topo.nodes.map((n) => n.name));
      for (const n of plan.nodes) {
        expect(n.noop).toBe(false);
        expect(n.errors).toEqual([]);
        expect(n.diff.join('\n')).toMatch(/NPG-TCP-30001/);
        expect(n.transactions.map((t) => t.family)).toContain('ipv4');
      }
      // Every node has the same plan: one group.
      expect(plan.groups).toHaveLength(1);
      expect(plan.planHash).toMatch(/\S{8,}/);
      planHash = plan.planHash;

      const a = await api('apply', { confirmWithinSeconds: 60, planHash });
      const applied = value(a.result);
      expect(applied).toMatchObject({ op: 'apply', outcome: 'ok', exitCode: 0, confirmWithinSeconds: 60 });
      const outcomes = a.events.flatMap((e) => (e.kind === 'outcome' ? [e.outcome] : []));
      expect(outcomes.map((o) => o.node).sort()).toEqual(topo.nodes.map((n) => n.name).sort());
      const now = Date.now() / 1000;
      for (const n of applied.nodes) {
        expect(n.status, n.line).toBe('applied');
        expect(n.rollsBackAt).toBeGreaterThan(now + 30);
        expect(n.rollsBackAt).toBeLessThan(now + 120);
      }

      const c = value((await api('confirm', {})).result);
      expect(c.exitCode).toBe(0);
      expect(c.nodes.map((n) => n.status)).toEqual(topo.nodes.map(() => 'confirmed'));

      const v = value((await api('verify', {})).result);
      expect(v.status, JSON.stringify(v)).toBe('ok');
      expect(v.exitCode).toBe(0);
      for (const node of topo.nodes) expect(cell(v, node.name)?.status, node.name).toBe('ok');
      expect(v.cells).toHaveLength(topo.nodes.length);

      for (const node of topo.nodes) {
        const ok = await probeLab({ from: ALLOWED, node: node.name, port: PORT, timeoutMs: 1500 });
        expect(ok.outcome, `${ALLOWED} -> ${node.name}`).toBe('reached');
        const no = await probeLab({ from: BLOCKED, node: node.name, port: PORT, timeoutMs: 1500 });
        expect(no.outcome, `${BLOCKED} -> ${node.name}`).toBe('refused');
        if (v6 && node.ipv6) {
          const six = await probeLab({
            from: '2001:2::100:13',
            node: node.name,
            port: PORT,
            timeoutMs: 1500,
          });
          expect(six.outcome, `v6 -> ${node.name}`).toBe('reached');
        }
      }

      // A fresh read shows the guard, and the tracer sees it on the node's rules.
      const d = value((await api('discover', { refresh: true })).result);
      expect(d.nodePorts.find((x) => x.port === PORT && x.protocol === 'tcp')?.policy).toBe('enforce');
      expect(d.nodes.every((n) => n.summary?.guard === 'healthy' && n.summary.pending === undefined)).toBe(
        true,
      );
      const np = value((await api('nodePort', { node: 'node1', port: PORT })).result);
      expect(np.guarded).toBe(true);
      const blocked = value(
        (await api('trace', { source: { node: 'node1' }, src: BLOCKED, dport: PORT })).result,
      );
      expect(blocked.outcomes.map((o) => o.verdict)).toEqual(['redirect']);
      const allowed = value(
        (await api('trace', { source: { node: 'node1' }, src: ALLOWED, dport: PORT })).result,
      );
      expect(allowed.outcomes.every((o) => o.verdict !== 'redirect' && o.verdict !== 'drop')).toBe(true);
    },
    120_000,
  );

  itIptables(
    'watch reports drift after a kube-proxy restart on node2, and stops promptly when cancelled',
    async () => {
      const node2 = topo.nodes.find((n) => n.name === 'node2')!;
      const ctl = new AbortController();
      const rounds: VerifyResponse[] = [];
      let restart: Promise<void> | undefined;
      let restartedAt = 0;
      let resolveDrift: (v: VerifyResponse) => void = () => undefined;
      const drifted = new Promise<VerifyResponse>((r) => {
        resolveDrift = r;
      });
      const watching = api(
        'watch',
        { periodSeconds: 2 },
        {
          signal: ctl.signal,
          onEvent: (e) => {
            if (e.kind !== 'verify') return;
            rounds.push(e.result);
            if (!restart) {
              restart = restartKubeProxy(node2).then(() => {
                restartedAt = Date.now();
              });
            } else if (restartedAt > 0 && cell(e.result, 'node2')?.status === 'drift') resolveDrift(e.result);
          },
        },
      );
      try {
        const timeout = sleep(20_000).then(() => undefined);
        const drift = await Promise.race([drifted, timeout]);
        expect(drift, `rounds: ${rounds.map((r) => r.status).join(', ')}`).toBeDefined();
        expect(rounds[0]!.status).toBe('ok');
        expect(cell(rounds[0]!, 'node2')?.status).toBe('ok');
        expect(Date.now() - restartedAt).toBeLessThan(15_000);
        expect(drift!.status).toBe('drift');
        expect(drift!.exitCode).toBe(1);
        const node2Wide = drift!.nodes.find((n) => n.node === 'node2')!;
        expect(node2Wide.status).toBe('drift');
        expect(node2Wide.reasons.join('\n')).toMatch(/behind kube-proxy's KUBE-SERVICES jump/);
        // The other nodes are untouched.
        expect(cell(drift!, 'node1')?.status).toBe('ok');
      } finally {
        await restart;
        const stoppedAt = Date.now();
        ctl.abort();
        const w = await watching;
        expect(Date.now() - stoppedAt).toBeLessThan(5_000);
        if (w.result.ok) expect(w.result.value?.status).toMatch(/^(ok|drift)$/);
        else expect(w.result.error.code).toBe('cancelled');
      }
      // Nothing keeps running: no round after the call ended.
      const seen = rounds.length;
      await sleep(3_000);
      expect(rounds.length).toBe(seen);
    },
    90_000,
  );

  itIptables(
    'apply heals node2; a stale plan hash is refused; a plan cancelled mid-way says cancelled',
    async () => {
      const staleHash = planHash;
      const healed = value((await api('apply', {})).result);
      expect(healed.exitCode).toBe(0);
      expect(healed.nodes.find((n) => n.node === 'node2')?.status).toBe('applied');
      expect(healed.nodes.filter((n) => n.node !== 'node2').map((n) => n.status)).toEqual(
        topo.nodes.filter((n) => n.name !== 'node2').map(() => 'unchanged'),
      );
      const v = value((await api('verify', {})).result);
      expect(v.status, JSON.stringify(v.nodes)).toBe('ok');
      expect(cell(v, 'node2')?.status).toBe('ok');
      expect((await probeLab({ from: BLOCKED, node: 'node2', port: PORT })).outcome).toBe('refused');

      // Plan again (nothing to do now), then apply what the old plan showed: refused.
      const p = value((await api('plan', {})).result);
      expect(p.exitCode).toBe(0);
      expect(p.nodes.every((n) => n.noop)).toBe(true);
      expect(p.planHash).not.toBe(staleHash);
      const stale = await api('apply', { planHash: staleHash });
      expect(stale.result.ok).toBe(false);
      if (!stale.result.ok) {
        expect(stale.result.error.code).toBe('bad-input');
        expect(stale.result.error.message).toMatch(/plan again$/);
      }
      expect(stale.events).toEqual([]);

      const ctl = new AbortController();
      const cancelledPlan = await api('plan', {}, { signal: ctl.signal, onEvent: () => ctl.abort() });
      expect(cancelledPlan.events.length).toBeGreaterThan(0);
      expect(cancelledPlan.result).toEqual({
        ok: false,
        error: { code: 'cancelled', message: 'plan: cancelled' },
      });

      // The session is still fine after a cancelled call.
      const after = value((await api('verify', {})).result);
      expect(after.status).toBe('ok');
    },
    120_000,
  );

  itIptables(
    'export gives the restore files per node; history lists the applies newest first',
    async () => {
      const v6 = topo.nodes.some((n) => n.ipv6);
      const e = value((await api('export', {})).result);
      expect(e.writtenTo).toBeUndefined();
      const names = e.files.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['install-guard.sh', 'export.json']));
      for (const node of topo.nodes) {
        const v4 = e.files.find((f) => f.name === `${node.name}.v4.rules`);
        expect(v4, `${node.name}.v4.rules`).toBeDefined();
        expect(v4!.text).toMatch(/^\*nat$/m);
        expect(v4!.text).toContain('NPG-TCP-30001');
        expect(v4!.text).toContain('198.18.100.10/31');
        expect(v4!.text).toContain('198.18.100.12/32');
        if (v6 && node.ipv6) {
          const six = e.files.find((f) => f.name === `${node.name}.v6.rules`);
          expect(six?.text).toContain('2001:2::100:0/112');
        }
      }
      const out = join(ws.dir, 'exported');
      const written = value((await api('export', { dir: out })).result);
      expect(written.writtenTo).toBe(out);
      expect(await readFile(join(out, 'node1.v4.rules'), 'utf8')).toContain('NPG-TCP-30001');

      const h = value((await api('history', {})).result);
      expect(h.warnings).toEqual([]);
      expect(h.entries.map((x) => x.op)).toEqual(['apply', 'apply']);
      const [newest, oldest] = h.entries;
      expect(Date.parse(newest!.time)).toBeGreaterThanOrEqual(Date.parse(oldest!.time));
      // The newest changed node2 only; the first changed every node, under the plan shown.
      expect(newest!.nodes.find((n) => n.node === 'node2')?.status).toBe('applied');
      expect(oldest!.nodes.map((n) => n.status)).toEqual(topo.nodes.map(() => 'applied'));
      expect(oldest!.plan).toBe(planHash);
      // Each entry keeps the plan as the plan tab showed it.
      expect(oldest!.plans?.flatMap((g) => g.nodes).sort()).toEqual(topo.nodes.map((n) => n.name).sort());
      expect(oldest!.plans?.flatMap((g) => g.diff).join('\n')).toContain('+ chain NPG-TCP-30001');
    },
    90_000,
  );

  it('remove takes the guard off every node', async () => {
    const r = value((await api('remove', {})).result);
    expect(r).toMatchObject({ op: 'remove', exitCode: 0 });
    for (const node of topo.nodes)
      expect((await probeLab({ from: BLOCKED, node: node.name, port: PORT })).outcome, node.name).toBe(
        'reached',
      );
    const d = value((await api('discover', { refresh: true })).result);
    expect(d.nodes.map((n) => n.summary?.guard)).toEqual(topo.nodes.map(() => 'none'));
  }, 90_000);
});
