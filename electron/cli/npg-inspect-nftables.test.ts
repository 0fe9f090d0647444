// `npg inspect --file` on kube-proxy nftables-mode rulesets, end to end through the real binary:
// the dump's form (nft text, `nft -f` input, `nft -j` JSON) is recognised by itself and the same
// contract is printed; iptables mode seen through iptables-nft is refused in one clear line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { npgSync } from './test-support/npg-run';

const CORPUS = 'e2e/lab/fixtures/corpus';

const npg = npgSync;

interface Contract {
  mode: string;
  nodePorts: {
    port: number;
    protocol: string;
    service: string | null;
    endpoints: string[];
    externalTrafficPolicy: string;
    noEndpoints: boolean;
    endpointDetails: { endpoint: string; probability: number; chain?: string }[];
    path: string[];
  }[];
}

describe('npg inspect --file, kube-proxy nftables mode', () => {
  it.each([
    'nftables-k8s-test-overall.nft-f.txt',
    'nftables-k8s-test-overall.nft-j.json',
    'nftables-k8s-test-overall.nft-a-list-ruleset.txt',
  ])('%s --json: the contract, mode nftables', (file) => {
    const r = npg(['inspect', '--file', `${CORPUS}/${file}`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Contract;
    expect(out.mode).toBe('nftables');
    expect(Object.keys(out.nodePorts[0]!).slice(0, 4)).toEqual(['port', 'protocol', 'service', 'endpoints']);
    expect(
      out.nodePorts.map((n) => [
        n.port,
        n.protocol,
        n.service,
        n.endpoints,
        n.externalTrafficPolicy,
        n.noEndpoints,
      ]),
    ).toEqual([
      [3001, 'tcp', 'ns2/svc2:p80', [], 'Local', true],
      [3002, 'tcp', 'ns5/svc5:p80', ['10.180.0.3:80'], 'Cluster', false],
      [3003, 'tcp', 'ns3/svc3:p80', ['10.180.0.3:80'], 'Cluster', false],
    ]);
    expect(out.nodePorts[2]!.path).toEqual([
      'nat-prerouting',
      'services',
      'external-4AT6LBPK-ns3/svc3/tcp/p80',
      'service-4AT6LBPK-ns3/svc3/tcp/p80',
    ]);
  });

  it('prints the table for people, from stdin', () => {
    const text = readFileSync(`${CORPUS}/nftables-k3s-riset.nft-list-table.txt`, 'utf8');
    const r = npg(['inspect', '--file', '-'], text);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kube-proxy mode: nftables, 1 NodePorts\n/);
    expect(r.stdout).toMatch(/30000\s+tcp\s+riset\/hellopod-np-svc\s+10\.42\.2\.218:8080 /);
  });

  it('--port shows the nftables path and each endpoint share', () => {
    const r = npg([
      'inspect',
      '--file',
      `${CORPUS}/nftables-knftables-test-ipv6.nft-j.json`,
      '--port',
      '3001/tcp',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /path\s+nat-prerouting -> services -> external-ULMVA6XW-ns1\/svc1\/tcp\/p80 -> service-ULMVA6XW/,
    );
    expect(r.stdout).toMatch(/endpoint\s+\[fd00:10:180::1\]:80\s+50\.0%\s+endpoint-ZVRFLKHO/);
    expect(
      npg(['inspect', '--file', `${CORPUS}/nftables-knftables-test-ipv6.nft-j.json`, '--port', '3002']).code,
    ).toBe(1);
  });

  it("iptables mode through iptables-nft (`nft list ruleset` of a node): read as the iptables mode it is, the node's own answer but for service names", () => {
    const X = 'shared/xtables-nft/fixtures';
    const viaNft = npg(['inspect', '--file', `${X}/current.nft-list-ruleset.txt`, '--json']);
    expect(viaNft.code, viaNft.stderr).toBe(0);
    const save = npg(['inspect', '--file', `${X}/current.iptables-save.txt`, '--json']);
    const a = JSON.parse(viaNft.stdout) as Contract;
    const b = JSON.parse(save.stdout) as Contract;
    expect(a.mode).toBe('iptables');
    expect(a.nodePorts.map((p) => p.port)).toEqual(b.nodePorts.map((p) => p.port));
    // nft prints no -m comment: the service names are lost, the rest is the node's own answer.
    expect(a.nodePorts.map((p) => p.service)).toEqual(a.nodePorts.map(() => null));
    expect(a.nodePorts.map((p) => p.endpoints)).toEqual(b.nodePorts.map((p) => p.endpoints));
  });

  it("two nodes' chains pasted together (the corpus trap): one line, exit 2", () => {
    const file = `${CORPUS}/trap-iptables-nft-kube-services.saifsust-devops.nft-list.txt`;
    const r = npg(['inspect', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/iptables mode written through iptables-nft.*iptables-save/);
  });

  it('a broken nft ruleset: one line naming file and line, exit 2', () => {
    const r = npg(
      ['inspect', '--file', '-'],
      'table ip kube-proxy {\n\tchain services {\n\t\tjump\n\t}\n}\n',
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^npg: stdin line 3: `jump` without a chain name/);
  });

  it('--ipset goes with iptables-save dumps only', () => {
    const file = `${CORPUS}/nftables-k8s-test-overall.nft-j.json`;
    const r = npg([
      'inspect',
      '--file',
      file,
      '--ipset',
      `${CORPUS}/trap-ipvsadm-Ln.lifalin0802-falin-repos.txt`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`npg: inspect: --ipset goes with iptables-save dumps; ${file} is an nft ruleset\n`);
    const t = npg(['inspect', '--file', file, '--table', 'nat']);
    expect(t.stderr).toBe(`npg: inspect: --table goes with iptables-save dumps; ${file} is an nft ruleset\n`);
  });
});

describe('npg inspect --file, both kube-proxy tables in one ruleset', () => {
  const both = `${readFileSync(`${CORPUS}/nftables-knftables-test-ipv6.nft-f.txt`, 'utf8')}\n${readFileSync(
    `${CORPUS}/nftables-k8s-test-overall.nft-f.txt`,
    'utf8',
  )}`;
  it('shows IPv4 and warns that IPv6 is there; --family ipv6 shows that one', () => {
    const v4 = npg(['inspect', '--file', '-', '--json'], both);
    expect(v4.code).toBe(0);
    const out4 = JSON.parse(v4.stdout) as Contract & { warnings: string[] };
    expect(out4.nodePorts.map((n) => n.port)).toEqual([3001, 3002, 3003]);
    expect(out4.warnings).toContain(
      'this ruleset also has table ip6 kube-proxy: shown here is table ip kube-proxy only',
    );
    const v6 = npg(['inspect', '--file', '-', '--json', '--family', 'ipv6'], both);
    const out6 = JSON.parse(v6.stdout) as Contract;
    expect(out6.nodePorts.map((n) => n.endpoints)).toEqual([
      ['[fd00:10:180::1]:80', '[fd00:10:180::2:1]:80'],
    ]);
    expect(npg(['inspect', '--file', '-', '--family', 'ipx'], both).stderr).toMatch(
      /--family "ipx": ipv4 or ipv6/,
    );
  });
});
