// Nodes typed one per line: `name host[:port]`, or a host alone (its name is the host). Pure.
export interface TypedNode {
  readonly name: string;
  readonly host: string;
  readonly port?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST = /^[A-Za-z0-9.:_-]{1,253}$/;

export function parseNodeLines(
  text: string,
): { ok: true; nodes: TypedNode[] } | { ok: false; error: string } {
  const nodes: TypedNode[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    if (parts.length > 2)
      return { ok: false, error: `line ${i + 1}: "${line}": expected "name host[:port]"` };
    const [first, second] = parts as [string, string | undefined];
    const hostPart = second ?? first;
    const m = /^(\[[0-9a-fA-F:]+\]|[^:]+|[0-9a-fA-F:]+)(?::(\d{1,5}))?$/.exec(hostPart);
    let host = hostPart;
    let port: number | undefined;
    if (
      m &&
      m[2] !== undefined &&
      !hostPart.startsWith('[') === !hostPart.slice(0, -m[2].length - 1).includes(':')
    ) {
      host = m[1] as string;
      port = Number(m[2]);
    }
    host = host.replace(/^\[(.*)\]$/, '$1');
    const name = second ? first : host.replace(/[^A-Za-z0-9._-]/g, '-');
    if (!NAME.test(name))
      return { ok: false, error: `line ${i + 1}: "${name}": a node name is letters, digits, . _ -` };
    if (!HOST.test(host)) return { ok: false, error: `line ${i + 1}: "${host}": not a host name or address` };
    if (port !== undefined && (port < 1 || port > 65535))
      return { ok: false, error: `line ${i + 1}: port ${port} out of range` };
    if (nodes.some((n) => n.name === name))
      return { ok: false, error: `line ${i + 1}: node "${name}" is named twice` };
    nodes.push(port === undefined ? { name, host } : { name, host, port });
  }
  if (nodes.length === 0) return { ok: false, error: 'type at least one node' };
  return { ok: true, nodes };
}
