// Pure filtering of a NodePort list by what the engineer types: a port, a protocol, a service, a
// pod address, or a state word (guarded, open, audit, drift). The lowercase text of each row is
// built once per list, so a keystroke over 5,000 rows is one substring test per row and term.
export interface Filterable {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
}

const haystacks = new WeakMap<readonly object[], readonly string[]>();

export function filterRows<T extends Filterable>(
  list: readonly T[],
  query: string,
  extra: (row: T) => string = () => '',
): readonly T[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return list;
  let hay = haystacks.get(list);
  if (!hay) {
    hay = list.map((r) =>
      `${r.port} ${r.port}/${r.protocol} ${r.protocol} ${r.service ?? ''} ${extra(r)}`.toLowerCase(),
    );
    haystacks.set(list, hay);
  }
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    const h = hay[i] as string;
    if (terms.every((t) => h.includes(t))) out.push(list[i] as T);
  }
  return out;
}
