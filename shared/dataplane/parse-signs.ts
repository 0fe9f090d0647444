// `%%npg sign …` lines (DATAPLANE_SIGNS_SCRIPT's output, possibly inside the read script's output)
// back into NodeSigns. Other lines are ignored; unknown kinds and malformed values too, so an older
// or newer script never breaks the read.
import { MAX_SIGN_LINES } from './node-script.js';
import type { NodeSigns } from './signs.js';

const SIGN_LINE = /^%%npg sign ([a-z-]+) ([A-Za-z0-9_.:-]{1,128})$/;
const LOOKED = new Set(['bpf', 'proc', 'cilium-config']);

export function parseSignLines(text: string): NodeSigns {
  const looked = new Set<string>();
  const got = new Map<string, string[]>();
  let count = 0;
  for (const raw of text.split('\n')) {
    const m = SIGN_LINE.exec(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (!m) continue;
    const kind = m[1]!;
    const value = m[2]!;
    if (kind === 'looked') {
      if (LOOKED.has(value)) looked.add(value);
      continue;
    }
    if (++count > MAX_SIGN_LINES) continue;
    const list = got.get(kind) ?? [];
    if (!list.includes(value)) list.push(value);
    got.set(kind, list);
  }
  const field = (place: string, kind: string): readonly string[] | undefined =>
    looked.has(place) ? (got.get(kind) ?? []) : undefined;
  const out: {
    bpffs?: readonly string[];
    bpfGlobals?: readonly string[];
    ciliumLinks?: readonly string[];
    processes?: readonly string[];
    ciliumDefines?: readonly string[];
  } = {};
  const set = <K extends keyof typeof out>(k: K, v: readonly string[] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('bpffs', field('bpf', 'bpf'));
  set('bpfGlobals', field('bpf', 'bpf-global'));
  set('ciliumLinks', field('bpf', 'cilium-link'));
  set('processes', field('proc', 'proc'));
  set('ciliumDefines', field('cilium-config', 'cilium-define'));
  return out;
}

/** The same from the engine's marker events (`parseScriptOutput(...).events`: words of each `%%npg` line). */
export function parseSignEvents(events: readonly (readonly string[])[]): NodeSigns {
  return parseSignLines(
    events
      .filter((w) => w[0] === 'sign')
      .map((w) => `%%npg ${w.join(' ')}`)
      .join('\n'),
  );
}
