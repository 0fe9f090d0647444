// Lines that differ only by the node they name, said once with the list of nodes (pure). The
// planner words every warning per node ("node2: tcp/30001: ..."); on 100 nodes the same warning
// would fill the screen 100 times.
export interface GroupedLine {
  readonly text: string;
  readonly nodes: readonly string[];
}

export function groupNodeLines(
  items: readonly { readonly node: string; readonly lines: readonly string[] }[],
): GroupedLine[] {
  const byText = new Map<string, string[]>();
  for (const { node, lines } of items)
    for (const line of lines) {
      const text = line.startsWith(`${node}: `) ? line.slice(node.length + 2) : line;
      const nodes = byText.get(text) ?? [];
      if (!nodes.includes(node)) nodes.push(node);
      byText.set(text, nodes);
    }
  return [...byText].map(([text, nodes]) => ({ text, nodes }));
}

/** "node1, node2 and 3 more: text" */
export function groupedLineText(g: GroupedLine, shown = 3): string {
  const names =
    g.nodes.length > shown
      ? `${g.nodes.slice(0, shown).join(', ')} and ${g.nodes.length - shown} more`
      : g.nodes.join(', ');
  return `${names}: ${g.text}`;
}
