// kube-proxy's masquerade step: KUBE-MARK-MASQ marks in PREROUTING, and nat POSTROUTING ->
// KUBE-POSTROUTING masquerades marked packets. The mark decides whether the pod sees the client's
// address, which is what externalTrafficPolicy Local is for.
import { decodeTarget } from '../netfilter/decode';
import type { ChainIndex } from './chain-index';
import { hookStep, stepVia } from './path-steps';
import type { MasqueradeStep, PathStep } from './topology';

export function readMasquerade(nat: ChainIndex): MasqueradeStep | undefined {
  const post = nat.get('KUBE-POSTROUTING');
  const markChain = nat.get('KUBE-MARK-MASQ');
  if (!post && !markChain) return undefined;
  const path: PathStep[] = [hookStep('POSTROUTING', nat)];
  const jump = nat.get('POSTROUTING')?.rules.find((r) => r.target?.name === 'KUBE-POSTROUTING');
  if (jump) path.push(stepVia('KUBE-POSTROUTING', jump));
  const markRule = markChain?.rules.find((r) => r.target?.name === 'MARK');
  const decoded = markRule?.target ? decodeTarget(markRule.target) : undefined;
  const mark =
    decoded?.kind === 'mark' ? `0x${decoded.xor.toString(16)}/0x${decoded.mask.toString(16)}` : undefined;
  const masqueradeRule = post?.rules.find((r) => r.target?.name === 'MASQUERADE');
  return {
    path,
    ...(markRule ? { markRule } : {}),
    ...(mark ? { mark } : {}),
    ...(masqueradeRule ? { masqueradeRule } : {}),
  };
}
