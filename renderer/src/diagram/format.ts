// Numbers as the diagram prints them: short on edges, exact in labels read aloud.

const UNITS: readonly (readonly [number, string])[] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 950 -> "950", 1234 -> "1.2k", 12_345 -> "12k", 1_500_000 -> "1.5M". */
export function compactCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const abs = Math.abs(n);
  for (const [size, unit] of UNITS) {
    if (abs >= size) {
      const v = n / size;
      // One decimal below 10 ("1.2k"), none above ("12k"); never "10.0k".
      const text = Math.abs(v) < 9.95 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v).toString();
      return `${text}${unit}`;
    }
  }
  return Math.round(n).toString();
}

/** 1536 -> "1.5 kB" (decimal units, as iptables -L -v prints them). */
export function formatBytes(n: number): string {
  return Math.abs(n) < 1000 ? `${Math.round(n)} B` : `${compactCount(n)}B`.replace(/([kMGT])B$/, ' $1B');
}

/** 1200 -> "1,200": fixed locale so labels and tests agree everywhere. */
/** One formatter for every label: toLocaleString builds a new one per call (~0.1 ms each). */
const EXACT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function exactCount(n: number): string {
  return EXACT.format(Math.round(n));
}

/** 1/3 -> "33.3%", 1 -> "100%", 0.25 -> "25%". */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '?%';
  const v = Math.min(1, Math.max(0, p)) * 100;
  return `${v.toFixed(1).replace(/\.0$/, '')}%`;
}

/** "1.2k pkts" for an edge, or undefined when the rule has no counters. */
export function edgeCounters(packets: number | undefined): string | undefined {
  return packets === undefined ? undefined : `${compactCount(packets)} pkts`;
}

/** "1,200 pkts · 96 kB" for a node. */
export function nodeCounters(packets: number | undefined, bytes: number | undefined): string | undefined {
  if (packets === undefined) return undefined;
  return bytes === undefined
    ? `${exactCount(packets)} pkts`
    : `${exactCount(packets)} pkts · ${formatBytes(bytes)}`;
}
