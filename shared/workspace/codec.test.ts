import { describe, expect, it } from 'vitest';
import { parseWorkspace, serializeWorkspace } from './codec';

const GOOD = `
version: 1
inventory:
  knownHosts: known_hosts
  defaults: { user: root, port: 22 }
  nodes:
    - { name: node-1, host: 198.18.0.11 }
    - { name: node-2, host: 198.18.0.12, sudo: true, proxyJump: [] }
policy:
  nodePorts:
    - port: 30001
      service: default/web:http
      allow:
        - { cidr: 198.18.100.0/24, label: office }
        - { cidr: "2001:2::/48", label: v6 office }
    - port: 30002
      protocol: udp
      mode: audit
`;

function bad(text: string): string {
  const r = parseWorkspace(text);
  if (r.ok) throw new Error('expected an error');
  expect(r.error).not.toContain('\n');
  return r.error;
}

describe('parseWorkspace', () => {
  it('reads a workspace and fills defaults', () => {
    const r = parseWorkspace(GOOD);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [a, b] = r.workspace.policy.nodePorts;
    expect(a).toMatchObject({ port: 30001, protocol: 'tcp', mode: 'enforce', blackholePort: 65535 });
    expect(b).toMatchObject({ port: 30002, protocol: 'udp', mode: 'audit', allow: [] });
  });

  it('round-trips through serializeWorkspace', () => {
    const r = parseWorkspace(GOOD);
    if (!r.ok) throw new Error(r.error);
    const again = parseWorkspace(serializeWorkspace(r.workspace));
    expect(again).toEqual(r);
  });

  it('reads the cluster section: pod CIDRs and health-check ranges (CIDRs or gcp/azure), strictly', () => {
    const text = GOOD.replace(
      'policy:',
      'cluster:\n  podCidrs: [198.19.0.0/17, "2001:2:0:8000::/64"]\n  healthCheckRanges: [gcp, 198.18.200.0/24]\npolicy:',
    );
    const r = parseWorkspace(text);
    if (!r.ok) throw new Error(r.error);
    expect(r.workspace.cluster).toEqual({
      podCidrs: ['198.19.0.0/17', '2001:2:0:8000::/64'],
      healthCheckRanges: ['gcp', '198.18.200.0/24'],
    });
    expect(parseWorkspace(serializeWorkspace(r.workspace))).toEqual(r);
    expect(bad(text.replace('198.19.0.0/17', '198.19.0.0/33'))).toMatch(/^cluster\.podCidrs\[0\]: /);
    expect(bad(text.replace('[gcp,', '[aws,'))).toMatch(/^cluster\.healthCheckRanges\[0\]: /);
    expect(bad(text.replace('podCidrs:', 'podCIDRs:'))).toMatch(/cluster/);
  });

  it('names the field path of a bad CIDR', () => {
    const text = GOOD.replace('198.18.100.0/24', '10.0.0.300/24');
    expect(bad(text)).toBe(
      'policy.nodePorts[0].allow[0].cidr: "10.0.0.300/24" is not an IPv4 or IPv6 address or CIDR',
    );
  });

  it('rejects shell metacharacters and line breaks in any field', () => {
    expect(bad(GOOD.replace('198.18.100.0/24', '"198.18.100.0/24;reboot"'))).toContain('allow[0].cidr');
    expect(bad(GOOD.replace('host: 198.18.0.11', 'host: "198.18.0.11; reboot"'))).toMatch(
      /^inventory\.nodes\[0\]\.host: /,
    );
    expect(bad(GOOD.replace('name: node-1', 'name: "$(id)"'))).toMatch(/^inventory\.nodes\[0\]\.name: /);
    expect(bad(GOOD.replace('label: office', 'label: "a\\nb"'))).toMatch(
      /^policy\.nodePorts\[0\]\.allow\[0\]\.label: /,
    );
    expect(bad(GOOD.replace('default/web:http', '"x\\r\\n-A INPUT -j ACCEPT"'))).toMatch(
      /^policy\.nodePorts\[0\]\.service: /,
    );
  });

  it('rejects out-of-range ports, duplicates, unknown keys', () => {
    expect(bad(GOOD.replace('port: 30002', 'port: 70000'))).toMatch(/^policy\.nodePorts\[1\]\.port: /);
    expect(bad(GOOD.replace('port: 30002\n      protocol: udp', 'port: 30001'))).toBe(
      'policy.nodePorts[1]: tcp/30001 is already guarded by policy.nodePorts[0]',
    );
    expect(bad(GOOD.replace('mode: audit', 'mode: audit\n      blackholePort: 30002'))).toBe(
      'policy.nodePorts[1].blackholePort: 30002 is the guarded port itself',
    );
    expect(bad(GOOD.replace('version: 1', 'version: 1\nextra: true'))).toMatch(/^workspace: .*extra/);
    expect(bad(GOOD.replace('version: 1', 'version: 2'))).toMatch(/^version: /);
  });

  it('turns away corrupt files in one line', () => {
    expect(bad('')).toBe('workspace: the file is empty');
    expect(bad('version: 1\nversion: 1\ninventory: {nodes: []}\n')).toMatch(/^workspace: YAML .*line 2/);
    expect(bad('{{{')).toMatch(/^workspace: YAML /);
    expect(bad('- just\n- a list\n')).toMatch(/^workspace: /);
    const bomb = `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
    expect(bad(bomb)).toMatch(/^workspace: /);
  });
});
