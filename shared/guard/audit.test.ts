import { describe, expect, it } from 'vitest';
import { parseConntrackFlows, wouldBeBlocked } from './audit';
import { desiredOf, POLICY } from './test-support/fixtures';

const LISTING = `tcp      6 117 SYN_SENT src=198.18.9.1 dst=198.18.0.11 sport=40000 dport=30001 [UNREPLIED] src=198.18.64.5 dst=198.18.9.1 sport=8080 dport=40000 mark=0 use=1
tcp      6 431999 ESTABLISHED src=198.18.100.7 dst=198.18.0.11 sport=40001 dport=30001 src=198.18.64.5 dst=198.18.100.7 sport=8080 dport=40001 [ASSURED] mark=0 use=1
ipv4     2 tcp      6 60 TIME_WAIT src=198.18.9.1 dst=198.18.0.11 sport=40002 dport=30001 src=198.18.64.5 dst=198.18.9.1 sport=8080 dport=40002 [ASSURED] mark=0 use=1
ipv6     10 tcp      6 100 ESTABLISHED src=2001:2:0:9::1 dst=2001:2::11 sport=40003 dport=30001 src=2001:2:0:64::5 dst=2001:2:0:9::1 sport=8080 dport=40003 [ASSURED] mark=0 use=1
udp      17 29 src=198.18.9.2 dst=198.18.0.11 sport=5000 dport=30001 [UNREPLIED] src=198.18.64.5 dst=198.18.9.2 sport=53 dport=5000 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.
`;

describe('audit', () => {
  it('reads conntrack listings, plain and extended', () => {
    const flows = parseConntrackFlows(LISTING);
    expect(flows).toHaveLength(5);
    expect(flows[2]).toEqual({
      protocol: 'tcp',
      source: '198.18.9.1',
      destination: '198.18.0.11',
      destinationPort: 30001,
    });
  });

  it('lists sources the allow-list does not admit, most flows first', () => {
    const port = desiredOf(POLICY).ports[0]!;
    expect(wouldBeBlocked(port, parseConntrackFlows(LISTING))).toEqual([
      { family: 'ipv4', source: '198.18.9.1', flows: 2 },
      { family: 'ipv6', source: '2001:2:0:9::1', flows: 1 },
    ]);
  });
});
