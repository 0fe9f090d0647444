// The cluster's NodePorts, merged across nodes: guard state (open / guarded n/m / audit / drift)
// and the nodes whose rules differ, searchable by port, service, pod address or state word.
import type { ClusterNodePortView } from '../../../shared/api';
import { useNodes } from '../nodes/nodes-store';
import { NodePortList, portKey } from './nodeport-list';
import { type Badge, NodePortRow } from './nodeport-row';
import { useSelection } from './selection-store';

export function guardBadges(np: ClusterNodePortView): Badge[] {
  const n = np.nodes.length;
  const g = np.guardedOn.length;
  const out: Badge[] = [];
  if (np.policy === 'audit') out.push({ text: 'audit', tone: 'warn' });
  else if (g === 0)
    out.push({ text: np.policy ? 'open (policy not applied)' : 'open', tone: np.policy ? 'warn' : 'plain' });
  else if (g < n) out.push({ text: `guarded ${g}/${n}`, tone: 'warn' });
  else out.push({ text: 'guarded', tone: 'guard' });
  if (np.differsOn.length > 0) out.push({ text: `differs on ${np.differsOn.length}`, tone: 'bad' });
  if (np.ipv6On.length > 0) out.push({ text: 'IPv6', tone: 'plain' });
  return out;
}

const searchText = (np: ClusterNodePortView) =>
  `${np.endpoints.join(' ')} ${guardBadges(np)
    .map((b) => b.text)
    .join(' ')} ${np.differsOn.length ? 'drift differs' : ''}`;

export function ClusterNodePorts() {
  const cluster = useNodes((s) => s.cluster);
  const discovering = useNodes((s) => s.discovering);
  const filter = useSelection((s) => s.filter);
  const setFilter = useSelection((s) => s.setFilter);
  const selected = useSelection((s) => s.selected);
  const select = useSelection((s) => s.select);
  if (!cluster)
    return (
      <p className="muted pad">
        {discovering ? 'Reading the nodes… each appears as it answers.' : 'No nodes read yet.'}
      </p>
    );
  if (cluster.nodePorts.length === 0)
    return <p className="muted pad">No NodePorts on the nodes that answered.</p>;
  return (
    <NodePortList
      rows={cluster.nodePorts}
      rowKey={portKey}
      searchText={searchText}
      selected={selected}
      onSelect={select}
      filter={filter}
      onFilter={setFilter}
      renderRow={(np) => (
        <NodePortRow
          port={np.port}
          protocol={np.protocol}
          service={np.service}
          detail={
            np.local ? 'ETP Local' : `${np.endpoints.length} endpoint${np.endpoints.length === 1 ? '' : 's'}`
          }
          badges={guardBadges(np)}
        />
      )}
    />
  );
}
