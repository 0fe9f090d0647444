// Rules other software puts next to kube-proxy's, for fixtures that must not confuse the parser:
// Calico (canal) and flannel chains, a foreign PREROUTING rule above kube-proxy's jump, the
// well-known one-line guard, and NodePort Guard's own rules as DESIGN.md specifies them.
// Each is `iptables-restore --noflush` input applied after kube-proxy's tables.

/** Calico's nat hooks (policy-only "canal" install) and flannel's masquerade/forward chains. */
export function cniNoiseV4(
  podCidr: string,
  nodePodSubnet: string,
): { nat: string; filter: string; ipsets: string } {
  const nat = [
    '*nat',
    ':cali-PREROUTING - [0:0]',
    ':cali-OUTPUT - [0:0]',
    ':cali-POSTROUTING - [0:0]',
    ':cali-fip-dnat - [0:0]',
    ':cali-fip-snat - [0:0]',
    ':cali-nat-outgoing - [0:0]',
    ':FLANNEL-POSTRTG - [0:0]',
    '-I PREROUTING 1 -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
    '-I OUTPUT 1 -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
    '-I POSTROUTING 1 -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
    '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    '-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat',
    '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat',
    '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
    '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat',
    '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    `-A FLANNEL-POSTRTG -s ${nodePodSubnet} -d ${podCidr} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${podCidr} -d ${nodePodSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${podCidr} -d ${nodePodSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${podCidr} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
    `-A FLANNEL-POSTRTG ! -s ${podCidr} -d ${podCidr} -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
    'COMMIT',
  ];
  const filter = [
    '*filter',
    ':cali-FORWARD - [0:0]',
    ':cali-INPUT - [0:0]',
    ':FLANNEL-FWD - [0:0]',
    '-I INPUT 1 -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT',
    '-I FORWARD 1 -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
    '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
    '-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000',
    '-A cali-FORWARD -m comment --comment "cali:A_sPAO0mcxbT9mOV" -m mark --mark 0x0/0x10000 -j ACCEPT',
    '-A cali-INPUT -m comment --comment "cali:msRIDfJRWnYwzW4g" -m mark --mark 0x10000/0x10000 -j ACCEPT',
    `-A FLANNEL-FWD -s ${podCidr} -m comment --comment "flanneld forward" -j ACCEPT`,
    `-A FLANNEL-FWD -d ${podCidr} -m comment --comment "flanneld forward" -j ACCEPT`,
    'COMMIT',
  ];
  const ipsets = [
    'create cali40masq-ipam-pools hash:net family inet hashsize 1024 maxelem 1048576',
    `add cali40masq-ipam-pools ${podCidr}`,
    'create cali40all-ipam-pools hash:net family inet hashsize 1024 maxelem 1048576',
    `add cali40all-ipam-pools ${podCidr}`,
  ];
  return { nat: `${nat.join('\n')}\n`, filter: `${filter.join('\n')}\n`, ipsets: `${ipsets.join('\n')}\n` };
}

/** Something an operator or Docker put at the top of nat PREROUTING, above kube-proxy's jump. */
export function foreignPrerouting(): string {
  return [
    '*nat',
    ':DOCKER - [0:0]',
    '-A DOCKER -i docker0 -j RETURN',
    '-I PREROUTING 1 -m addrtype --dst-type LOCAL -j DOCKER',
    '-I PREROUTING 1 -s 198.18.50.0/24 -p tcp -m tcp --dport 8080 -m comment --comment "ops: legacy port" -j REDIRECT --to-ports 80',
    'COMMIT',
    '',
  ].join('\n');
}

/** The well-known fix: one REDIRECT above kube-proxy's jump; allows exactly one CIDR. */
export function oneLineGuard(port: number, allowCidr: string, proto: 'tcp' | 'udp' = 'tcp'): string {
  return `*nat\n-I PREROUTING 1 -p ${proto} --dport ${port} ! -s ${allowCidr} -j REDIRECT --to-ports 65535\nCOMMIT\n`;
}

/** NodePort Guard's rules for one port, in DESIGN.md's shape (entry jump, per-port chain). */
export function npgGuard(
  port: number,
  allow: readonly { cidr: string; label: string }[],
  service: string,
): string {
  const chain = `NPG-TCP-${port}`;
  return [
    '*nat',
    ':NPG-PREROUTING - [0:0]',
    `:${chain} - [0:0]`,
    '-I PREROUTING 1 -m comment --comment "nodeport-guard: entry" -j NPG-PREROUTING',
    `-A NPG-PREROUTING -p tcp -m tcp --dport ${port} -m addrtype --dst-type LOCAL -m comment --comment "nodeport-guard: ${service}" -j ${chain}`,
    ...allow.map(
      (a) => `-A ${chain} -s ${a.cidr} -m comment --comment "nodeport-guard: allow ${a.label}" -j RETURN`,
    ),
    `-A ${chain} -p tcp -m comment --comment "nodeport-guard: block" -j REDIRECT --to-ports 65535`,
    'COMMIT',
    '',
  ].join('\n');
}
