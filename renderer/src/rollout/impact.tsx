// Impact before apply: the sources seen on the nodes right now (conntrack) for the selected
// NodePort that its saved allow-list would block, with their counts and nodes, next to the plan.
// Nobody cuts off a real client by surprise.
import { wouldBlock } from '../allow-list/validate';
import { useSelection } from '../nodeports/selection-store';
import { savedDraft, usePolicy } from '../policy/policy-store';
import { useWorkspace } from '../workspace/workspace-store';

export function Impact() {
  const key = useSelection((s) => s.selected);
  const ws = useWorkspace((s) => s.workspace);
  const observed = usePolicy((s) => (key ? s.observed[key] : undefined));
  const saved = key ? savedDraft(ws, key) : undefined;
  if (!key || !saved || !observed) return null;
  const cut = observed.filter((o) => wouldBlock(saved.entries, o.source));
  const verb = saved.mode === 'audit' ? 'would be listed by audit' : 'would be cut off';
  return (
    <section
      className={`impact ${cut.length ? 'impact--bad' : ''}`}
      aria-label={`Impact on ${key}`}
      data-testid="impact"
    >
      <strong>
        {cut.length === 0
          ? `${key}: every source seen now on the nodes is allowed.`
          : `${key}: ${cut.length} source${cut.length === 1 ? '' : 's'} seen now ${verb}:`}
      </strong>
      {cut.length > 0 && (
        <ul>
          {cut.slice(0, 20).map((o) => (
            <li key={o.source}>
              <code>{o.source}</code> ×{o.count} on {o.nodes.join(', ')}
            </li>
          ))}
          {cut.length > 20 && <li className="muted">and {cut.length - 20} more</li>}
        </ul>
      )}
    </section>
  );
}
