// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { diagramSummary, exportFileName, nodeAriaLabel } from './describe';
import { buildGraph } from './graph-model';
import { droppedNodePort, guardedNodePort, redirectTrace } from './samples';

describe('nodeAriaLabel', () => {
  it('names the chain, its role and its packets', () => {
    const g = buildGraph(guardedNodePort());
    const svc = g.nodes.find((n) => n.id === 'np/8')!;
    expect(nodeAriaLabel(svc)).toBe(`${svc.label}, service chain, 4,790 packets`);
    const ext = g.nodes.find((n) => n.id === 'np/6')!;
    expect(nodeAriaLabel(ext)).toMatch(/external traffic chain, 4,790 packets, jumps to KUBE-MARK-MASQ/);
  });

  it('says whether a node is on the traced path', () => {
    const g = buildGraph(guardedNodePort(), { trace: redirectTrace() });
    expect(nodeAriaLabel(g.nodes.find((n) => n.id === 'blackhole')!)).toMatch(/on the traced path$/);
    expect(nodeAriaLabel(g.nodes.find((n) => n.id === 'np/4')!)).toMatch(/not on the traced path$/);
  });
});

describe('diagramSummary', () => {
  it('sums up the guard, the foreign rules, the endpoints and the trace', () => {
    const np = guardedNodePort();
    expect(diagramSummary(np, buildGraph(np))).toBe(
      '30001/tcp default/web:http: 7 chains on the way, guarded by NPG-TCP-30001 allowing 3 sources, ' +
        '1 foreign rule in front of kube-proxy, 4 endpoints, client address masqueraded.',
    );
    const t = redirectTrace();
    expect(diagramSummary(np, buildGraph(np, { trace: t }), t)).toMatch(
      /masqueraded\. Trace: redirected \(blocked\) \(198\.18\.0\.9 is not allowed.*\); 4 steps lit\.$/,
    );
  });

  it('says when there are no endpoints', () => {
    const np = droppedNodePort();
    expect(diagramSummary(np, buildGraph(np))).toMatch(/not guarded, no local endpoints\.$/);
  });
});

describe('exportFileName', () => {
  it('is nodeport-PORT-PROTO.EXT', () => {
    expect(exportFileName({ port: 30001, protocol: 'TCP' }, 'png')).toBe('nodeport-30001-tcp.png');
    expect(exportFileName({ port: 30002, protocol: 'udp' }, 'svg')).toBe('nodeport-30002-udp.svg');
  });
});
