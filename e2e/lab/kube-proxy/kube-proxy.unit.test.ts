import { describe, expect, it } from 'vitest';
import { base32, endpointChain, serviceChain } from './chain-names';
import { generateKubeProxyRules, jumpsOf, sampleServices, syntheticServices } from './index';
import { probability } from './line-buffer';
import { MAX_SYNTHETIC_ENDPOINTS, MAX_SYNTHETIC_SERVICES } from './samples';
import type { KubeProxyOptions } from './types';

const base = (over: Partial<KubeProxyOptions> = {}): KubeProxyOptions => ({
  mode: 'iptables',
  layout: 'current',
  family: 'ipv4',
  services: sampleServices('ipv4', 3),
  nodeName: 'node1',
  nodeIp: '198.18.0.11',
  clusterCidr: '198.19.0.0/17',
  ...over,
});

describe('chain names', () => {
  it('match kube-proxy (proxier_test.go vectors)', () => {
    expect(serviceChain('KUBE-SVC-', 'ns1/svc1:p80', 'tcp')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChain('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });
  it('base32 pads like Go StdEncoding', () => {
    expect(base32(new TextEncoder().encode('foobar'))).toBe('MZXW6YTBOI======');
  });
  it('probabilities are printed with 10 decimals', () => {
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(2)).toBe('0.5000000000');
  });
});

describe('iptables mode, current layout', () => {
  const r = generateKubeProxyRules(base());
  it('jumps from PREROUTING to KUBE-SERVICES with kube-proxy comment', () => {
    expect(jumpsOf(r, 'nat', 'PREROUTING').map((j) => j.args.join(' '))).toEqual([
      '-m comment --comment kubernetes service portals -j KUBE-SERVICES',
    ]);
    expect(r.nat).toContain(
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    );
  });
  it('routes NodePorts through KUBE-EXT and ends KUBE-SERVICES with the nodeports jump', () => {
    expect(r.sync).toMatch(
      /-A KUBE-NODEPORTS -m comment --comment default\/web:http -m tcp -p tcp --dport 30001 -j KUBE-EXT-/,
    );
    const services = r.sync.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES '));
    expect(services.at(-1)).toContain(
      '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"',
    );
  });
  it('uses KUBE-SVL for externalTrafficPolicy Local and REJECTs a service without endpoints', () => {
    expect(r.sync).toMatch(/-A KUBE-EXT-\w+ -j KUBE-SVL-/);
    expect(r.filter).toContain(
      '"default/empty:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30004 -j REJECT',
    );
  });
  it('spreads 4 endpoints with 1/4, 1/3, 1/2 and a final rule', () => {
    const web = r.sync.split('\n').filter((l) => l.includes('"default/web:http -> '));
    expect(web.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last')).toEqual([
      '0.2500000000',
      '0.3333333333',
      '0.5000000000',
      'last',
    ]);
  });
  it('has the canaries and the iptables hint', () => {
    expect(r.mangle).toContain(':KUBE-IPTABLES-HINT - [0:0]');
    expect(r.mangle).toContain(':KUBE-PROXY-CANARY - [0:0]');
  });
});

describe('iptables mode, legacy layout', () => {
  const r = generateKubeProxyRules(base({ layout: 'legacy' }));
  it('masquerades and jumps to KUBE-SVC straight from KUBE-NODEPORTS', () => {
    expect(r.sync).toMatch(
      /-A KUBE-NODEPORTS -m comment --comment default\/web:http -m tcp -p tcp --dport 30001 -j KUBE-MARK-MASQ/,
    );
    expect(r.sync).toMatch(
      /-A KUBE-NODEPORTS -m comment --comment default\/web:http -m tcp -p tcp --dport 30001 -j KUBE-SVC-/,
    );
    expect(r.sync).not.toContain('KUBE-EXT-');
  });
  it('uses KUBE-XLB for Local policy and KUBE-FW for load balancers', () => {
    expect(r.sync).toMatch(/--dport 30003 -j KUBE-XLB-/);
    expect(r.sync).toMatch(/-j KUBE-FW-/);
    expect(r.nat).toContain('-A KUBE-MARK-DROP -j MARK --or-mark 0x8000');
  });
});

describe('ipvs mode', () => {
  const r = generateKubeProxyRules(base({ mode: 'ipvs' }));
  it('marks NodePorts via ipsets and lists them', () => {
    expect(r.sync).toContain('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
    expect(r.sync).toContain(
      '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port with externalTrafficPolicy=local" -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN',
    );
    expect(r.ipsets).toContain('add KUBE-NODE-PORT-TCP 30001');
    expect(r.ipsets).toContain('add KUBE-NODE-PORT-UDP 30002');
    expect(r.ipsets).toContain('add KUBE-NODE-PORT-SCTP-HASH 198.18.0.11,sctp:30005');
    expect(r.ipvsadm).toMatch(/^TCP {2}198\.18\.0\.11:30001 rr$/m);
  });
  it('renames IPv6 sets KUBE-6-* within 31 characters', () => {
    const v6 = generateKubeProxyRules(
      base({
        mode: 'ipvs',
        family: 'ipv6',
        services: sampleServices('ipv6', 3),
        nodeIp: '2001:2::11',
        clusterCidr: '2001:2:0:100::/56',
      }),
    );
    expect(v6.ipsets).toContain('create KUBE-6-NODE-PORT-TCP bitmap:port range 0-65535');
    for (const line of v6.ipsets!.split('\n').filter((l) => l.startsWith('create '))) {
      expect(line.split(' ')[1]!.length).toBeLessThanOrEqual(31);
    }
  });
});

describe('IPv6', () => {
  it('brackets endpoints and excludes ::1 from the nodeports jump', () => {
    const r = generateKubeProxyRules(
      base({
        family: 'ipv6',
        services: sampleServices('ipv6', 3),
        nodeIp: '2001:2::11',
        clusterCidr: '2001:2:0:100::/56',
      }),
    );
    expect(r.sync).toMatch(/--to-destination \[2001:2:0:101::a\]:8080/);
    expect(r.sync).toContain('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS');
  });
});

describe('synthetic services', () => {
  // Speed is npm run bench's business (it renders these too); this checks the large-cluster shape.
  it('render 5000 services x 3 endpoints in large-cluster mode', () => {
    const services = syntheticServices(5000, 3);
    const r = generateKubeProxyRules(base({ services }));
    expect(r.sync.split('\n').filter((l) => l.startsWith('-A KUBE-NODEPORTS')).length).toBe(5000);
    // Above 1000 endpoints kube-proxy drops the per-endpoint comments.
    expect(r.sync).not.toMatch(/-A KUBE-SEP-\w+ -m comment/);
  });
});

describe('synthetic service addresses', () => {
  const octetsOk = (ip: string) => ip.split('.').every((o) => Number(o) >= 0 && Number(o) <= 255);
  it('stay valid and inside their ranges at the limits', () => {
    const services = syntheticServices(MAX_SYNTHETIC_SERVICES, 1);
    for (const s of [services[0]!, services.at(-1)!]) {
      expect(octetsOk(s.clusterIP), s.clusterIP).toBe(true);
      expect(Number(s.clusterIP.split('.')[2])).toBeGreaterThanOrEqual(128);
      expect(Number(s.clusterIP.split('.')[2])).toBeLessThan(200);
    }
    const eps = syntheticServices(MAX_SYNTHETIC_ENDPOINTS / 3, 3).flatMap((s) => s.endpoints);
    for (const e of [eps[0]!, eps.at(-1)!]) {
      expect(octetsOk(e.ip), e.ip).toBe(true);
      expect(Number(e.ip.split('.')[2])).toBeLessThan(128);
    }
    expect(() => syntheticServices(MAX_SYNTHETIC_SERVICES + 1, 1)).toThrow();
  });
});
