// `npg inspect`'s quick path: a plain `iptables-save -t nat` or whole `iptables-save` dump of
// kube-proxy's iptables mode, read into typed arrays (netfilter/nat-scan.ts) and walked there
// (compact-topology.ts), gives the inspect JSON without building the rule model. Undefined
// whenever either step is not sure: the caller then inspects the dump the general way, which
// reads every input and words every error. Both give the same output (compact-topology.test.ts).
import { scanNatDump } from '../netfilter/nat-scan';
import { compactInspect, compactInspectBytes } from './compact-topology';
import type { InspectJson } from './inspect-json';

export function quickInspect(text: string): InspectJson | undefined {
  const scan = scanNatDump(text);
  return scan && compactInspect(scan);
}

/** `JSON.stringify(quickInspect(text))` as UTF-8 bytes, written directly (what `npg inspect --json` prints). */
export function quickInspectBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  const scan = scanNatDump(text);
  return scan && compactInspectBytes(scan);
}
