// Regenerates the parser fixtures in e2e/lab/fixtures from REAL netfilter: each case loads
// kube-proxy-format rules (kube-proxy/ generator) plus extras into a fresh network namespace
// `npgfx-<pid>` with iptables-restore / ip6tables-restore / ipset restore, then saves what
// iptables-save, iptables -S and ipset list print. The namespace is deleted after every case,
// also on error or Ctrl-C; stale npgfx-* namespaces from a crashed run are removed first.
//
//   npm run lab -- fixtures         (root; no lab needed)
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_CIDR_V4, CLUSTER_CIDR_V6, nodeIpV4, nodeIpV6, podSubnetV4 } from '../addressing';
import {
  generateKubeProxyRules,
  type IptablesLayout,
  type KubeProxyMode,
  sampleServices,
} from '../kube-proxy/index';
import { run } from '../sys/exec';
import { deleteNetns, listNetns, withTempNetns } from '../sys/netns';
import { cniNoiseV4, foreignPrerouting, npgGuard, oneLineGuard } from './extras';

export const FIXTURE_NETNS_PREFIX = 'npgfx-';
const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

interface Extra {
  readonly iptables?: string;
  readonly ipsets?: string;
}

interface FixtureCase {
  readonly name: string;
  readonly describe: string;
  readonly mode: KubeProxyMode;
  readonly layout: IptablesLayout;
  readonly family: 'ipv4' | 'ipv6';
  readonly extras?: readonly Extra[];
  /** Also save `-t nat` alone, `iptables -t nat -S`, and kube-proxy's own restore input. */
  readonly allViews?: boolean;
}

function cases(): FixtureCase[] {
  const noise = cniNoiseV4(CLUSTER_CIDR_V4, podSubnetV4(1));
  return [
    {
      name: 'iptables-v4-current',
      describe: 'kube-proxy iptables mode, v1.24+ layout, IPv4, node1 of 3',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv4',
      allViews: true,
    },
    {
      name: 'iptables-v4-legacy',
      describe: 'kube-proxy iptables mode, pre-1.24 layout (KUBE-XLB, KUBE-FW, KUBE-MARK-DROP), IPv4',
      mode: 'iptables',
      layout: 'legacy',
      family: 'ipv4',
      allViews: true,
    },
    {
      name: 'iptables-v6-current',
      describe: 'kube-proxy iptables mode, v1.24+ layout, IPv6 (ip6tables-save)',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv6',
      allViews: true,
    },
    {
      name: 'iptables-v6-legacy',
      describe: 'kube-proxy iptables mode, pre-1.24 layout, IPv6 (ip6tables-save)',
      mode: 'iptables',
      layout: 'legacy',
      family: 'ipv6',
    },
    {
      name: 'ipvs-v4',
      describe: 'kube-proxy ipvs mode, IPv4: KUBE-NODE-PORT with ipsets; ipset list; ipvsadm -Ln (generated)',
      mode: 'ipvs',
      layout: 'current',
      family: 'ipv4',
      allViews: true,
    },
    {
      name: 'ipvs-v6',
      describe: 'kube-proxy ipvs mode, IPv6: KUBE-6-* ipsets',
      mode: 'ipvs',
      layout: 'current',
      family: 'ipv6',
    },
    {
      name: 'iptables-v4-current-cni-noise',
      describe:
        'v1.24+ layout plus Calico (cali-*) and flannel (FLANNEL-*) chains; cali-PREROUTING is above KUBE-SERVICES',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv4',
      extras: [{ ipsets: noise.ipsets }, { iptables: noise.filter + noise.nat }],
    },
    {
      name: 'iptables-v4-current-foreign-prerouting',
      describe:
        'v1.24+ layout plus a DOCKER jump and an operator REDIRECT inserted above kube-proxy’s PREROUTING jump',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv4',
      extras: [{ iptables: foreignPrerouting() }],
    },
    {
      name: 'iptables-v4-current-oneliner-guard',
      describe:
        'v1.24+ layout plus the well-known one-line guard: -I PREROUTING 1 -p tcp --dport 30001 ! -s 198.18.100.8/30 -j REDIRECT --to-ports 65535',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv4',
      extras: [{ iptables: oneLineGuard(30001, '198.18.100.8/30') }],
    },
    {
      name: 'ipvs-v4-oneliner-guard',
      describe: 'ipvs mode plus the one-line guard on 30001',
      mode: 'ipvs',
      layout: 'current',
      family: 'ipv4',
      extras: [{ iptables: oneLineGuard(30001, '198.18.100.8/30') }],
    },
    {
      name: 'iptables-v4-current-npg-guard',
      describe: 'v1.24+ layout plus NodePort Guard rules (DESIGN.md shape) for 30001 with two allow entries',
      mode: 'iptables',
      layout: 'current',
      family: 'ipv4',
      extras: [
        {
          iptables: npgGuard(
            30001,
            [
              { cidr: '198.18.100.8/30', label: 'office' },
              { cidr: '198.18.100.13/32', label: 'vpn' },
            ],
            'default/web:http',
          ),
        },
      ],
    },
  ];
}

/**
 * What changes on every run without meaning anything: the time in iptables-save's header
 * comments, ipset's random initval and its hash order of members. Files that differ only there
 * are left alone, so regenerating does not churn the repository.
 */
export function fixtureNoiseFree(file: string, text: string): string {
  const lines = text
    .replace(/^# (Generated by .*|Completed) on .*$/gm, '# $1 on <time>')
    .replace(/ initval 0x[0-9a-f]+/g, ' initval <random>')
    .split('\n');
  return (file.endsWith('ipset-list.txt') ? lines.sort() : lines).join('\n');
}

async function writeFixture(file: string, text: string): Promise<void> {
  const path = join(FIXTURES_DIR, file);
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old !== undefined && fixtureNoiseFree(file, old) === fixtureNoiseFree(file, text)) return;
  await writeFile(path, text);
}

async function regenCase(c: FixtureCase, ns: string): Promise<string[]> {
  const v6 = c.family === 'ipv6';
  const rules = generateKubeProxyRules({
    mode: c.mode,
    layout: c.layout,
    family: c.family,
    services: sampleServices(c.family, 3),
    nodeName: 'node1',
    nodeIp: v6 ? nodeIpV6(1) : nodeIpV4(1),
    clusterCidr: v6 ? CLUSTER_CIDR_V6 : CLUSTER_CIDR_V4,
  });
  const restore = v6 ? 'ip6tables-restore' : 'iptables-restore';
  const save = v6 ? 'ip6tables-save' : 'iptables-save';
  const iptables = v6 ? 'ip6tables' : 'iptables';
  if (rules.ipsets) await run(['ipset', 'restore'], { netns: ns, input: rules.ipsets });
  await run([restore], { netns: ns, input: rules.mangle + rules.filter + rules.nat });
  for (const extra of c.extras ?? []) {
    if (extra.ipsets) await run(['ipset', 'restore'], { netns: ns, input: extra.ipsets });
    if (extra.iptables) await run([restore, '--noflush'], { netns: ns, input: extra.iptables });
  }
  const written: string[] = [];
  const put = async (suffix: string, text: string) => {
    const file = `${c.name}.${suffix}`;
    await writeFixture(file, text);
    written.push(file);
  };
  await put(`${save}.txt`, await run([save, '-c'], { netns: ns }));
  if (c.allViews) {
    await put(`${save}-t-nat.txt`, await run([save, '-t', 'nat'], { netns: ns }));
    await put(`${iptables}-t-nat-S.txt`, await run([iptables, '-t', 'nat', '-S'], { netns: ns }));
    await put('kube-proxy-restore.txt', rules.sync);
  }
  if (rules.ipsets) await put('ipset-list.txt', await run(['ipset', 'list'], { netns: ns }));
  if (rules.ipvsadm) await put('ipvsadm-Ln.txt', rules.ipvsadm);
  return written;
}

/** Remove npgfx-* namespaces a crashed run left behind. */
export async function removeStaleFixtureNetns(): Promise<void> {
  for (const ns of await listNetns()) if (ns.startsWith(FIXTURE_NETNS_PREFIX)) await deleteNetns(ns);
}

const README_HEAD = `# Parser fixtures: real iptables-save output of kube-proxy-shaped rules

The one fixture folder of the project. The files from hand-written rule sources (other tools'
chains, every module, legacy listings, excerpts) are described in \`parser-src/README.md\`;
this page is about the lab's kube-proxy-shaped ones.

Every \`.txt\` file here except \`*.kube-proxy-restore.txt\` and \`*.ipvsadm-Ln.txt\` is the verbatim
output of a real netfilter tool (iptables v1.8.9 nf_tables backend, ipset v7.17, Debian 12). Do not
edit them by hand: regenerate with

    sudo npm run lab -- fixtures        # or: sudo npx tsx e2e/lab/cli.ts fixtures

How they are made (e2e/lab/fixture-gen/regen.ts): for each case, a fresh network namespace
\`npgfx-<pid>\` is created; the rules kube-proxy would have on node1 of the lab's 3-node cluster
(e2e/lab/kube-proxy/, services from \`sampleServices()\`: TCP, UDP, SCTP, externalTrafficPolicy
Local with a health-check port, a service without endpoints, a LoadBalancer with source ranges, a
service with 4 endpoints on 3 nodes, an unnamed port) are loaded with \`iptables-restore\` (or
\`ip6tables-restore\`; \`ipset restore\` first in ipvs mode), the case's extras are added with
\`iptables-restore --noflush\`, the outputs are saved, and the namespace is deleted.

Things worth knowing when parsing them:
- Counters are all \`[0:0]\`: no packet ever crossed these namespaces. For non-zero counters use a
  dump from the running lab (\`ip netns exec npg-node1 iptables-save -c\`).
- kube-proxy writes \`--probability 0.3333333333\`; iptables-save prints \`0.33333333349\`.
- kube-proxy writes \`-m tcp -p tcp ... -d IP\`; iptables-save reorders to \`-d IP/32 -p tcp -m tcp\`.
- \`--or-mark 0x4000\` comes back as \`--set-xmark 0x4000/0x4000\`, \`--xor-mark\` as \`--set-xmark 0x4000/0x0\`.
- Comments are always double-quoted by iptables-save, and a \`'\` inside is written \`\\'\` (ipvs set comments).
- \`KUBE-FW-*\` (v1.24+) ends with a rule that has a comment and no target.
- \`# Generated by\` / \`# Completed on\` lines carry the time of the run; \`ipset list\` headers carry a random initval.

Files named \`lab-<mode>-node1*.txt\` come from the running lab instead (e2e/lab/fixture-gen/from-lab.ts,
\`npm run lab -- fixtures --from-lab\`, once per \`lab:up --mode/--layout\`, with \`--ipv6\`): node1's
\`iptables-save -c\` / \`ip6tables-save -c\` after one round of real probes from every client address to
every NodePort, so counters are non-zero; \`*-oneliner.*\` the same with the one-line guard
\`-I PREROUTING 1 -p tcp --dport 30001 ! -s <first client address> -j REDIRECT --to-ports 65535\`
inserted by hand (its counters show the blocked probes); \`*.ipset-list.txt\` its \`ipset list\` (ipvs).

| file | how it was made |
|---|---|
`;

function readme(rows: readonly { file: string; how: string }[]): string {
  return `${README_HEAD}${rows.map((r) => `| \`${r.file}\` | ${r.how} |`).join('\n')}\n`;
}

function howMade(file: string, c: FixtureCase): string {
  const v6 = c.family === 'ipv6';
  const save = v6 ? 'ip6tables-save' : 'iptables-save';
  if (file.endsWith(`.${save}.txt`)) return `${c.describe}. \`${save} -c\``;
  if (file.endsWith('-t-nat.txt')) return `same rules as \`${c.name}\`. \`${save} -t nat\` (no counters)`;
  if (file.endsWith('-t-nat-S.txt')) return `same rules. \`${v6 ? 'ip6tables' : 'iptables'} -t nat -S\``;
  if (file.endsWith('kube-proxy-restore.txt'))
    return 'the input one kube-proxy sync passes to `iptables-restore --noflush --counters` (generated, not a tool output)';
  if (file.endsWith('ipset-list.txt')) return 'same node. `ipset list`';
  if (file.endsWith('ipvsadm-Ln.txt'))
    return 'what `ipvsadm -Ln` would print (GENERATED: this kernel has no IPVS module)';
  return c.describe;
}

export async function regenerateFixtures(log: (line: string) => void = console.log): Promise<string[]> {
  await removeStaleFixtureNetns();
  const ns = `${FIXTURE_NETNS_PREFIX}${process.pid}`;
  // Ctrl-C or kill during a case: the finally below would not run, so delete synchronously here.
  const onSignal = (signal: NodeJS.Signals) => {
    void deleteNetns(ns).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const all: string[] = [];
  const rows: { file: string; how: string }[] = [];
  try {
    for (const c of cases()) {
      const files = await withTempNetns(ns, (n) => regenCase(c, n));
      log(`${c.name}: ${files.join(', ')}`);
      all.push(...files);
      for (const file of files) rows.push({ file, how: howMade(file, c) });
    }
    await writeFixture('README.md', readme(rows));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await deleteNetns(ns);
  }
  return all;
}

export function fixtureCases(): readonly { name: string; describe: string }[] {
  return cases().map((c) => ({ name: c.name, describe: c.describe }));
}
