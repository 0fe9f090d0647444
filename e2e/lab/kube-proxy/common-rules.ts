// Rules every kube-proxy generation and mode writes the same way: the masquerade step
// (KUBE-POSTROUTING, KUBE-MARK-MASQ) and the forwarding accepts of KUBE-FORWARD.
import { type LineBuffer, quoted } from './line-buffer';

/** KUBE-POSTROUTING: masquerade what KUBE-MARK-MASQ marked, clearing the mark first. */
export function writeMasqueradeRules(
  natRules: LineBuffer,
  mark: string,
  randomFully: boolean | undefined,
): void {
  natRules.write('-A', 'KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  natRules.write('-A', 'KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', mark);
  natRules.write(
    '-A',
    'KUBE-POSTROUTING',
    '-m',
    'comment',
    '--comment',
    quoted('kubernetes service traffic requiring SNAT'),
    '-j',
    'MASQUERADE',
    randomFully === false ? [] : ['--random-fully'],
  );
  natRules.write('-A', 'KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', mark);
}

/** KUBE-FORWARD: accept marked (service) traffic and established flows. */
export function writeForwardAccepts(filterRules: LineBuffer, mark: string): void {
  filterRules.write(
    '-A',
    'KUBE-FORWARD',
    '-m',
    'comment',
    '--comment',
    quoted('kubernetes forwarding rules'),
    '-m',
    'mark',
    '--mark',
    `${mark}/${mark}`,
    '-j',
    'ACCEPT',
  );
  filterRules.write(
    '-A',
    'KUBE-FORWARD',
    '-m',
    'comment',
    '--comment',
    quoted('kubernetes forwarding conntrack rule'),
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  );
}
