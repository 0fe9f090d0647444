// Sample NodePorts shaped like the engine's output: for the unit tests and the demo page.
import type { DiagramEndpoint, DiagramNodePort, DiagramTrace } from './types';

const hash = (seed: number) => {
  // A deterministic 16-character kube-proxy style suffix.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let x = Math.imul(seed + 1, 2654435761) >>> 0;
  let out = '';
  for (let i = 0; i < 16; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out += alphabet[(x >>> 16) % alphabet.length];
  }
  return out;
};

const SVC = `KUBE-SVC-${hash(1)}`;
const EXT = `KUBE-EXT-${hash(1)}`;
const FOREIGN_RULE = '-A PREROUTING -s 192.0.2.0/24 -p tcp -m tcp --dport 30001 -j ACCEPT';

/** `count` endpoints with kube-proxy's probabilities (1/n, 1/(n-1), ... as shares of the whole). */
export function sampleEndpoints(count: number, withChains = true): DiagramEndpoint[] {
  return Array.from({ length: count }, (_, i) => {
    const ep: DiagramEndpoint = {
      address: `10.244.${1 + Math.floor(i / 250)}.${(i % 250) + 2}:8080`,
      probability: 1 / count,
      packets: 1200 - i * 7,
      bytes: (1200 - i * 7) * 60,
    };
    return withChains ? { ...ep, chain: `KUBE-SEP-${hash(100 + i)}` } : ep;
  });
}

/** 30001/tcp: a foreign ACCEPT rule and our guard in front of kube-proxy, 4 endpoints. */
export function guardedNodePort(endpoints = 4): DiagramNodePort {
  return {
    port: 30001,
    protocol: 'tcp',
    service: 'default/web:http',
    path: [
      { chain: 'PREROUTING', kind: 'PREROUTING', packets: 48_210, bytes: 2_892_600 },
      { chain: 'PREROUTING', kind: 'foreign', via: FOREIGN_RULE, packets: 12, bytes: 720 },
      {
        chain: 'NPG-PREROUTING',
        kind: 'NPG',
        via: '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
        packets: 48_100,
        bytes: 2_886_000,
      },
      {
        chain: 'NPG-TCP-30001',
        kind: 'NPG',
        via: '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -j NPG-TCP-30001',
        packets: 5_310,
        bytes: 318_600,
      },
      {
        chain: 'KUBE-SERVICES',
        kind: 'KUBE-SERVICES',
        via: '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        packets: 47_980,
        bytes: 2_878_800,
      },
      {
        chain: 'KUBE-NODEPORTS',
        kind: 'KUBE-NODEPORTS',
        via: '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
        packets: 4_800,
        bytes: 288_000,
      },
      {
        chain: EXT,
        kind: 'KUBE-EXT',
        via: `-A KUBE-NODEPORTS -p tcp -m tcp --dport 30001 -j ${EXT}`,
        packets: 4_790,
        bytes: 287_400,
      },
      { chain: 'KUBE-MARK-MASQ', kind: 'KUBE-MARK-MASQ', via: `-A ${EXT} -j KUBE-MARK-MASQ` },
      { chain: SVC, kind: 'KUBE-SVC', via: `-A ${EXT} -j ${SVC}`, packets: 4_790, bytes: 287_400 },
    ],
    endpoints: sampleEndpoints(endpoints),
    noEndpoints: false,
    localOnly: false,
    guarded: true,
    guard: {
      chain: 'NPG-TCP-30001',
      allow: [
        { source: '203.0.113.0/24', label: 'office' },
        { source: '35.191.0.0/16', label: 'lb-hc' },
        { source: '198.51.100.7' },
      ],
      blockToPort: 65535,
      effective: true,
    },
    foreign: [{ position: 1, effect: 'accept', rule: FOREIGN_RULE }],
    masquerade: 'always',
    clusterIp: {
      address: '10.96.12.34',
      port: 80,
      path: [
        { chain: 'OUTPUT', kind: 'OUTPUT' },
        {
          chain: 'KUBE-SERVICES',
          kind: 'KUBE-SERVICES',
          via: '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        },
        {
          chain: SVC,
          kind: 'KUBE-SVC',
          via: `-A KUBE-SERVICES -d 10.96.12.34/32 -p tcp -m tcp --dport 80 -j ${SVC}`,
        },
      ],
    },
  };
}

/** A plain, unguarded NodePort with `count` endpoints (the 100- and 500-endpoint cases). */
export function wideNodePort(count: number): DiagramNodePort {
  const np = guardedNodePort(count);
  return {
    ...np,
    port: 30080,
    service: 'shop/frontend:http',
    path: np.path.filter((s) => s.kind !== 'NPG' && s.kind !== 'foreign'),
    guarded: false,
    guard: undefined,
    foreign: [],
  };
}

/** ipvs mode: KUBE-NODE-PORT, then IPVS picks the backend. */
export function ipvsNodePort(): DiagramNodePort {
  return {
    port: 30002,
    protocol: 'udp',
    service: 'kube-system/dns:dns',
    path: [
      { chain: 'PREROUTING', kind: 'PREROUTING' },
      { chain: 'KUBE-SERVICES', kind: 'KUBE-SERVICES', via: '-A PREROUTING -j KUBE-SERVICES' },
      {
        chain: 'KUBE-NODE-PORT',
        kind: 'KUBE-NODE-PORT',
        via: '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
      },
      { chain: 'KUBE-MARK-MASQ', kind: 'KUBE-MARK-MASQ', via: '-A KUBE-NODE-PORT -j KUBE-MARK-MASQ' },
      { chain: 'IPVS', kind: 'IPVS' },
    ],
    endpoints: sampleEndpoints(2, false),
    noEndpoints: false,
    localOnly: false,
    guarded: false,
    foreign: [],
    masquerade: 'always',
  };
}

/** externalTrafficPolicy Local without a local endpoint. */
export function droppedNodePort(): DiagramNodePort {
  const svl = `KUBE-SVL-${hash(7)}`;
  return {
    port: 30003,
    protocol: 'tcp',
    service: 'default/local:http',
    path: [
      { chain: 'PREROUTING', kind: 'PREROUTING' },
      { chain: 'KUBE-SERVICES', kind: 'KUBE-SERVICES', via: '-A PREROUTING -j KUBE-SERVICES' },
      { chain: 'KUBE-NODEPORTS', kind: 'KUBE-NODEPORTS', via: '-A KUBE-SERVICES -j KUBE-NODEPORTS' },
      { chain: svl, kind: 'KUBE-SVL', via: `-A KUBE-NODEPORTS -p tcp -m tcp --dport 30003 -j ${svl}` },
      { chain: 'KUBE-MARK-DROP', kind: 'KUBE-MARK-DROP', via: `-A ${svl} -j KUBE-MARK-DROP` },
    ],
    endpoints: [],
    noEndpoints: true,
    localOnly: true,
    guarded: false,
    foreign: [],
    masquerade: 'never',
  };
}

/** A blocked source: our guard redirects it to the blackhole. */
export function redirectTrace(): DiagramTrace {
  return {
    verdict: 'redirect',
    detail: '198.18.0.9 is not allowed: redirected to :65535 (blackhole)',
    hops: [
      {
        chain: 'PREROUTING',
        rule: '-A PREROUTING -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
      },
      {
        chain: 'NPG-PREROUTING',
        rule: '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -m addrtype --dst-type LOCAL -j NPG-TCP-30001',
      },
      { chain: 'NPG-TCP-30001', rule: '-A NPG-TCP-30001 -p tcp -j REDIRECT --to-ports 65535' },
    ],
  };
}

/** An allowed source reaching the endpoint behind the `index`th KUBE-SEP. */
export function dnatTrace(np: DiagramNodePort, index: number): DiagramTrace {
  const ep = np.endpoints[index];
  const svc = np.path.find((s) => s.kind === 'KUBE-SVC')?.chain ?? 'KUBE-SVC-?';
  const ext = np.path.find((s) => s.kind === 'KUBE-EXT')?.chain ?? 'KUBE-EXT-?';
  const guarded = np.path.some((s) => s.kind === 'NPG');
  return {
    verdict: 'dnat',
    detail: `203.0.113.5 -> ${ep?.address ?? '?'}`,
    endpoint: ep?.address,
    hops: [
      ...(guarded
        ? [
            { chain: 'PREROUTING', rule: '-A PREROUTING -j NPG-PREROUTING' },
            {
              chain: 'NPG-PREROUTING',
              rule: '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -j NPG-TCP-30001',
            },
            { chain: 'NPG-TCP-30001', rule: '-A NPG-TCP-30001 -s 203.0.113.0/24 -j RETURN' },
          ]
        : []),
      { chain: 'PREROUTING', rule: '-A PREROUTING -j KUBE-SERVICES' },
      { chain: 'KUBE-SERVICES', rule: '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS' },
      { chain: 'KUBE-NODEPORTS', rule: `-A KUBE-NODEPORTS -p tcp -m tcp --dport ${np.port} -j ${ext}` },
      { chain: ext, rule: `-A ${ext} -j KUBE-MARK-MASQ` },
      { chain: 'KUBE-MARK-MASQ', rule: '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000' },
      { chain: ext, rule: `-A ${ext} -j ${svc}` },
      { chain: svc, rule: `-A ${svc} -m statistic --mode random -j ${ep?.chain ?? '?'}` },
      {
        chain: ep?.chain ?? '?',
        rule: `-A ${ep?.chain ?? '?'} -p tcp -j DNAT --to-destination ${ep?.address ?? '?'}`,
      },
    ],
  };
}
