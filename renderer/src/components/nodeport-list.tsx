import { useMemo } from 'react';
import type { NodePortView } from '../../../shared/api';
import { filterNodePorts } from '../state/filter';
import { nodePortKey, selectNodePorts, useApp } from '../state/store';

function Badges({ np }: { np: NodePortView }) {
  return (
    <span className="badges">
      {np.guarded && <span className="badge badge--guard">guarded</span>}
      {np.noEndpoints && <span className="badge badge--warn">no endpoints</span>}
      {np.localOnly && <span className="badge">ETP Local</span>}
    </span>
  );
}

export function NodePortList() {
  const all = useApp(selectNodePorts);
  const filter = useApp((s) => s.filter);
  const setFilter = useApp((s) => s.setFilter);
  const selected = useApp((s) => s.selected);
  const select = useApp((s) => s.select);
  const shown = useMemo(() => filterNodePorts(all, filter), [all, filter]);

  return (
    <nav className="np-list" aria-label="NodePorts">
      <input
        className="search"
        placeholder={`Filter ${all.length} NodePorts (port, service, pod IP)`}
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      <ul>
        {shown.map((np) => {
          const key = nodePortKey(np);
          return (
            <li key={key}>
              <button
                type="button"
                className={`np-item ${key === selected ? 'np-item--active' : ''}`}
                onClick={() => select(key)}
                data-testid={`nodeport-${key}`}
              >
                <span className="np-port">
                  {np.port}
                  <small>/{np.protocol}</small>
                </span>
                <span className="np-service">{np.service ?? 'unnamed service'}</span>
                <span className="np-meta">
                  {np.endpoints.length} endpoint{np.endpoints.length === 1 ? '' : 's'} <Badges np={np} />
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {shown.length === 0 && <p className="muted pad">No NodePort matches “{filter}”.</p>}
    </nav>
  );
}
