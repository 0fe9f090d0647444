// What moved between two reads of a NodePort's counters, in an on-call engineer's words (pure).
// The question at 3 a.m. is "is traffic reaching this port, and the pods, right now?": so the
// packets that entered the NodePort's path and those that went to a pod, per refresh interval.
import type { NodePortView } from '../../../shared/api';
import { exactCount } from '../diagram/format';

/** The refresh intervals offered; the first read of a NodePort comes at once. */
export const LIVE_INTERVALS_MS: readonly number[] = [2_000, 5_000, 10_000, 30_000];
export const DEFAULT_INTERVAL_MS = 5_000;

export interface CounterDelta {
  /** Seconds between the two reads. */
  readonly seconds: number;
  /** Packets for the port (the first rule on its path that names it), undefined when not counted. */
  readonly entered?: number;
  /** Guarded: packets the guard turned away (those for the port less those kube-proxy's rule saw). */
  readonly blocked?: number;
  /** Packets sent to a pod (the endpoints' rules summed), undefined when not counted. */
  readonly toPods?: number;
  /** Some counter went down: the rules were rewritten (kube-proxy sync, apply) since the last read. */
  readonly reset: boolean;
}

const diff = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : b - a;

/** Steps whose rule names the port: our guard's match first, kube-proxy's NodePort rule next. */
function portSteps(v: NodePortView): number[] {
  const out: number[] = [];
  v.path.forEach((s, i) => {
    if (s.packets !== undefined && s.via?.includes(`--dport ${v.port} `)) out.push(i);
  });
  if (out.length === 0) {
    const first = v.path.findIndex((s) => s.packets !== undefined);
    if (first >= 0) out.push(first);
  }
  return out;
}

function podPackets(v: NodePortView): number | undefined {
  let sum: number | undefined;
  for (const e of v.endpoints) if (e.packets !== undefined) sum = (sum ?? 0) + e.packets;
  return sum;
}

/** The change from `prev` to `next`; undefined when they are not the same path (another NodePort or node). */
export function counterDelta(
  prev: NodePortView,
  next: NodePortView,
  seconds: number,
): CounterDelta | undefined {
  if (prev.port !== next.port || prev.protocol !== next.protocol) return undefined;
  if (prev.path.length !== next.path.length || prev.path.some((s, i) => s.chain !== next.path[i]?.chain))
    return undefined;
  const at = (i: number | undefined) =>
    i === undefined ? undefined : diff(prev.path[i]?.packets, next.path[i]?.packets);
  const steps = portSteps(next);
  const entered = at(steps[0]);
  const passed = next.guard && steps.length > 1 ? at(steps[1]) : undefined;
  const blocked = entered !== undefined && passed !== undefined ? Math.max(0, entered - passed) : undefined;
  const toPods = diff(podPackets(prev), podPackets(next));
  const all = [
    ...next.path.map((s, i) => diff(prev.path[i]?.packets, s.packets)),
    ...next.endpoints.map((e) =>
      diff(prev.endpoints.find((p) => p.address === e.address)?.packets, e.packets),
    ),
  ];
  return {
    seconds: Math.max(0, seconds),
    ...(entered !== undefined ? { entered } : {}),
    ...(blocked !== undefined ? { blocked } : {}),
    ...(toPods !== undefined ? { toPods } : {}),
    reset: all.some((d) => d !== undefined && d < 0),
  };
}

/** "5 s", "2 min", "1 h": the interval a delta covers. */
export function spanText(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

const signed = (n: number) => `${n > 0 ? '+' : ''}${exactCount(n)}`;

/** "+12 pkts/5 s to the port · +4 blocked · +8 to pods": what the live bar says. */
export function deltaText(d: CounterDelta): string {
  if (d.reset)
    return 'counters restarted (rules rewritten since the last read): changes show from the next read';
  const per = `/${spanText(d.seconds)}`;
  const parts: string[] = [];
  if (d.entered !== undefined)
    parts.push(`${signed(d.entered)} ${Math.abs(d.entered) === 1 ? 'pkt' : 'pkts'}${per} to the port`);
  if (d.blocked !== undefined) parts.push(`${signed(d.blocked)} blocked`);
  if (d.toPods !== undefined) parts.push(`${signed(d.toPods)} to pods`);
  if (parts.length === 0) return 'no counters on this path';
  if (d.entered === 0 && (d.toPods ?? 0) === 0) return `no new packets in ${spanText(d.seconds)}`;
  return parts.join(' · ');
}

/** "every 5 s" for the interval picker and the bar. */
export function intervalText(ms: number): string {
  return `every ${spanText(ms / 1000)}`;
}
