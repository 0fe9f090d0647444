// Runs the rendered transactions for real, with iptables-restore -w --noflush (nft and legacy), inside
// throwaway network namespaces holding a kube-proxy-shaped nat table (the lab's recorded dumps), and
// reads the result back with iptables-save. No packet is sent.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, type TestContext } from 'vitest';
import type { Family } from '../vocabulary';
import type { Policy } from '../workspace/schema';
import { type NodePlan, planNode } from './plan';
import { planRemoveAll, planRestore, renderNodePlan, stateAfter } from './render';
import { parseSavedState, serializeSavedState } from './saved-state';
import { extractGuardState, type FamilyGuardState, guardStateHash } from './state';
import { desiredOf, parseDump } from './test-support/fixtures';
import { verifyNode } from './verify';

// Throwaway namespaces: each test gets its own `npggd-*`, always deleted afterwards (finally).
type IptablesBackend = 'nft' | 'legacy';

function run(args: readonly string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 20_000,
  });
}

function tool(backend: IptablesBackend, family: Family, what: 'restore' | 'save' | ''): string {
  const base = family === 'ipv4' ? 'iptables' : 'ip6tables';
  return `${base}-${backend}${what ? `-${what}` : ''}`;
}

/** Root, `ip netns` and the backend's tools present; otherwise the restore tests are skipped. */
function canUseNetns(backend: IptablesBackend): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    run(['ip', 'netns', 'list']);
    run(['which', tool(backend, 'ipv4', 'restore'), tool(backend, 'ipv6', 'restore')]);
    return true;
  } catch {
    return false;
  }
}

interface Netns {
  readonly name: string;
  readonly backend: IptablesBackend;
  /** `iptables-restore -w [--noflush]` inside the namespace; throws with stderr on failure. */
  restore(family: Family, text: string, opts?: { noflush?: boolean }): void;
  /** `iptables-save -c -t nat` inside the namespace. */
  saveNat(family: Family): string;
  /** One `iptables -t nat ...` command (to simulate hand edits and kube-proxy restarts). */
  iptables(family: Family, args: readonly string[]): void;
}

async function withNetns<T>(backend: IptablesBackend, fn: (ns: Netns) => T | Promise<T>): Promise<T> {
  const name = `npggd-${randomBytes(4).toString('hex')}`;
  run(['ip', 'netns', 'add', name]);
  try {
    const exec = (args: readonly string[], input?: string) => {
      try {
        return run(['ip', 'netns', 'exec', name, ...args], input);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`${args.join(' ')}: ${err.stderr || err.message}`);
      }
    };
    const ns: Netns = {
      name,
      backend,
      restore: (family, text, opts = {}) => {
        exec([tool(backend, family, 'restore'), '-w', ...(opts.noflush ? ['--noflush'] : [])], text);
      },
      saveNat: (family) => exec([tool(backend, family, 'save'), '-c', '-t', 'nat']),
      iptables: (family, args) => {
        exec([tool(backend, family, ''), '-w', '-t', 'nat', ...args]);
      },
    };
    return await fn(ns);
  } finally {
    run(['ip', 'netns', 'del', name]);
  }
}

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../e2e/lab/fixtures/${name}`, import.meta.url)), 'utf8');
const KUBE = {
  ipv4: fixture('iptables-v4-current.iptables-save-t-nat.txt'),
  ipv6: fixture('iptables-v6-current.ip6tables-save-t-nat.txt'),
};
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

const POLICY: Policy = {
  nodePorts: [
    {
      port: 30001,
      protocol: 'tcp',
      mode: 'enforce',
      blackholePort: 65535,
      service: 'default/web:http',
      allow: [
        { cidr: '198.18.100.0/24', label: 'office' },
        { cidr: '198.18.7.7', label: 'vpn "east"' },
        { cidr: '2001:2:0:1::/64', label: 'v6 office' },
      ],
    },
    { port: 30002, protocol: 'udp', mode: 'audit', blackholePort: 65535, allow: [{ cidr: '198.18.0.0/15' }] },
    {
      port: 30005,
      protocol: 'sctp',
      mode: 'enforce',
      blackholePort: 65000,
      allow: [{ cidr: '2001:2::/48', label: 'v6' }],
    },
  ],
};

function readState(ns: Netns, family: Family): FamilyGuardState {
  const r = extractGuardState(parseDump(ns.saveNat(family), family), family);
  if (!r.ok) throw new Error(r.error);
  return r.state;
}

function plan(ns: Netns, policy: Policy): NodePlan {
  const current = FAMILIES.map((f) => readState(ns, f));
  return planNode({
    node: ns.name,
    current,
    desired: desiredOf(policy),
    kubeProxy: { mode: 'iptables', backend: ns.backend },
  });
}

function apply(ns: Netns, p: NodePlan): void {
  expect(p.errors).toEqual([]);
  for (const t of renderNodePlan(p)) ns.restore(t.family, t.text, { noflush: true });
}

function verify(ns: Netns, policy: Policy) {
  return verifyNode({
    node: ns.name,
    desired: desiredOf(policy),
    reads: FAMILIES.map((family) => ({ family, ruleset: parseDump(ns.saveNat(family), family) })),
  });
}

/** Everything that is not ours, without counters and header comments: must never change. */
function foreign(ns: Netns, family: Family): string {
  return ns
    .saveNat(family)
    .split('\n')
    .filter((l) => !l.startsWith('#') && !l.includes('NPG-') && !l.includes('nodeport-guard'))
    .map((l) => l.replace(/^\[\d+:\d+\] /, '').replace(/ \[\d+:\d+\]$/, ''))
    .join('\n');
}

function loadKube(ns: Netns): void {
  for (const f of FAMILIES) ns.restore(f, KUBE[f]);
}

// These tests create namespaces and take seconds: they belong to the `lab` vitest project. Until the
// root config routes shared/**/*.lab.test.ts there, the `unit` project (which matches *.test.ts)
// skips them unless NPG_GUARD_NETNS=1.
function labOnly(ctx: TestContext): void {
  if (ctx.task.file.projectName !== 'lab' && process.env.NPG_GUARD_NETNS !== '1') ctx.skip();
}

const nonInfo = (v: ReturnType<typeof verify>) =>
  v.findings.filter((f) => f.severity !== 'info').map((f) => f.message);

describe.each(['nft', 'legacy'] as const)(
  'iptables-%s-restore --noflush in a throwaway netns',
  (backend: IptablesBackend) => {
    const usable = canUseNetns(backend);

    it.skipIf(!usable)(
      'applies, verifies, and applying again changes nothing; kube-proxy untouched',
      { timeout: 60_000 },
      async (ctx) => {
        labOnly(ctx);
        await withNetns(backend, (ns) => {
          loadKube(ns);
          const before = FAMILIES.map((f) => foreign(ns, f));
          expect(verify(ns, POLICY).status).toBe('drift');
          const first = plan(ns, POLICY);
          expect(first.noop).toBe(false);
          apply(ns, first);
          const v = verify(ns, POLICY);
          expect(nonInfo(v)).toEqual([]);
          expect(v.status).toBe('ok');
          // counters are read (iptables-save -c): zero, as nothing was sent
          expect(v.ports.find((p) => p.port === 30001)?.counters).toEqual([
            { family: 'ipv4', counters: { packets: 0, bytes: 0 } },
            { family: 'ipv6', counters: { packets: 0, bytes: 0 } },
          ]);
          const second = plan(ns, POLICY);
          expect(second.noop).toBe(true);
          expect(renderNodePlan(second)).toEqual([]);
          expect(FAMILIES.map((f) => foreign(ns, f))).toEqual(before);
          // the predicted post-apply state is the real one
          expect(
            guardStateHash(
              FAMILIES.map((f) => readState(ns, f)).map((s) => ({ ...s, kubeServicesAt: undefined })),
            ),
          ).toBe(guardStateHash(stateAfter(desiredOf(POLICY))));
        });
      },
    );

    it.skipIf(!usable)(
      'repairs a kube-proxy restart and hand edits, naming them first',
      { timeout: 60_000 },
      async (ctx) => {
        labOnly(ctx);
        await withNetns(backend, (ns) => {
          loadKube(ns);
          apply(ns, plan(ns, POLICY));
          // kube-proxy restart: its jump is re-inserted at the top
          const ks = ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
          ns.iptables('ipv4', ['-D', 'PREROUTING', ...ks]);
          ns.iptables('ipv4', ['-I', 'PREROUTING', '1', ...ks]);
          // by hand: one allow rule deleted (v4), one added (v6)
          ns.iptables('ipv4', [
            '-D',
            'NPG-TCP-30001',
            '-s',
            '198.18.7.7/32',
            '-m',
            'comment',
            '--comment',
            'nodeport-guard: allow vpn _east_',
            '-j',
            'RETURN',
          ]);
          ns.iptables('ipv6', ['-I', 'NPG-TCP-30001', '1', '-s', '2001:2:0:9::/64', '-j', 'RETURN']);
          const v = verify(ns, POLICY);
          expect(v.status).toBe('drift');
          expect(v.findings.map((f) => f.kind).filter((k) => k !== 'counters')).toEqual([
            'entry-after-kube-services',
            'rule-missing',
            'rule-unexpected',
          ]);
          const p = plan(ns, POLICY);
          expect(p.edits.map((e) => `${e.family} ${e.kind}`)).toEqual([
            'ipv4 chain-update',
            'ipv4 entry-move',
            'ipv6 chain-update',
          ]);
          apply(ns, p);
          expect(nonInfo(verify(ns, POLICY))).toEqual([]);
          expect(plan(ns, POLICY).noop).toBe(true);
        });
      },
    );

    it.skipIf(!usable)(
      'changes the policy, rolls back to the saved state, removes everything',
      { timeout: 60_000 },
      async (ctx) => {
        labOnly(ctx);
        await withNetns(backend, (ns) => {
          loadKube(ns);
          const pristine = FAMILIES.map((f) => foreign(ns, f));
          apply(ns, plan(ns, POLICY));
          // saved before the next change, as text (what goes to /var/lib/nodeport-guard/)
          const saved = FAMILIES.map((f) => serializeSavedState(readState(ns, f)));
          const savedHash = guardStateHash(FAMILIES.map((f) => readState(ns, f)));

          const changed: Policy = {
            nodePorts: [
              {
                ...POLICY.nodePorts[0]!,
                mode: 'audit',
                allow: [{ cidr: '198.18.100.0/24', label: 'office' }],
              },
              {
                port: 30007,
                protocol: 'tcp',
                mode: 'enforce',
                blackholePort: 65535,
                allow: [{ cidr: '198.18.5.0/24' }],
              },
            ],
          };
          const p = plan(ns, changed);
          expect(
            p.edits
              .filter((e) => e.kind === 'chain-remove')
              .map((e) => `${e.family} ${'chain' in e ? e.chain : ''}`),
          ).toEqual([
            'ipv4 NPG-SCTP-30005',
            'ipv4 NPG-UDP-30002',
            'ipv6 NPG-SCTP-30005',
            'ipv6 NPG-UDP-30002',
          ]);
          apply(ns, p);
          expect(nonInfo(verify(ns, changed))).toEqual([]);

          // rollback from the saved text; the plan is made against what the node holds now
          const restoredStates = FAMILIES.map((f, i) => {
            const r = parseSavedState(saved[i]!, f);
            if (!r.ok) throw new Error(r.error);
            return r.state;
          });
          apply(
            ns,
            planRestore(
              ns.name,
              FAMILIES.map((f) => readState(ns, f)),
              restoredStates,
              backend,
            ),
          );
          expect(guardStateHash(FAMILIES.map((f) => readState(ns, f)))).toBe(savedHash);
          expect(nonInfo(verify(ns, POLICY))).toEqual([]);

          // commit-confirmed: the restore text rendered BEFORE an apply, from the predicted state, works after it
          const timerPlan = planRestore(ns.name, stateAfter(desiredOf(changed)), restoredStates, backend);
          apply(ns, plan(ns, changed));
          apply(ns, timerPlan);
          expect(guardStateHash(FAMILIES.map((f) => readState(ns, f)))).toBe(savedHash);

          apply(
            ns,
            planRemoveAll(
              ns.name,
              FAMILIES.map((f) => readState(ns, f)),
              backend,
            ),
          );
          for (const f of FAMILIES) expect(ns.saveNat(f)).not.toMatch(/NPG-|nodeport-guard/);
          expect(FAMILIES.map((f) => foreign(ns, f))).toEqual(pristine);
        });
      },
    );

    it.skipIf(!usable)(
      'a stale plan fails as a whole and changes nothing',
      { timeout: 60_000 },
      async (ctx) => {
        labOnly(ctx);
        await withNetns(backend, (ns) => {
          loadKube(ns);
          apply(ns, plan(ns, POLICY));
          const removeAll = planRemoveAll(
            ns.name,
            FAMILIES.map((f) => readState(ns, f)),
            backend,
          );
          // someone deletes the entry jump meanwhile: the transaction's -D no longer matches
          ns.iptables('ipv4', [
            '-D',
            'PREROUTING',
            '-m',
            'comment',
            '--comment',
            'nodeport-guard: entry',
            '-j',
            'NPG-PREROUTING',
          ]);
          const before = ns.saveNat('ipv4').replace(/^#.*\n/gm, '');
          const v4 = renderNodePlan(removeAll).find((t) => t.family === 'ipv4')!;
          expect(() => ns.restore('ipv4', v4.text, { noflush: true })).toThrow();
          expect(ns.saveNat('ipv4').replace(/^#.*\n/gm, '')).toBe(before);
          // and the fingerprint tells the engine before it even tries
          expect(guardStateHash([readState(ns, 'ipv4'), readState(ns, 'ipv6')])).not.toBe(
            removeAll.stateHash,
          );
        });
      },
    );
  },
);
