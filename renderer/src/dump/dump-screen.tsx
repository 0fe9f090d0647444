// Offline analysis: load one node's rules (a file, a paste), find a NodePort, read its path,
// trace a source. Nothing here touches a cluster.
import type { NodePortSummaryView } from '../../../shared/api';
import { NodePortList, portKey } from '../nodeports/nodeport-list';
import { NodePortRow } from '../nodeports/nodeport-row';
import { PathDiagram } from '../nodeports/path-diagram';
import { TraceBox } from '../trace/trace-box';
import { DumpLoader } from './dump-loader';
import { selectDumpSelected, useDump } from './dump-store';

const searchText = (np: NodePortSummaryView) =>
  `${np.endpoints.join(' ')} ${np.guarded ? 'guarded' : 'open'}`;

export function DumpScreen() {
  const s = useDump();
  const selected = useDump(selectDumpSelected);
  const inspect = s.inspect;
  return (
    <>
      {inspect && (
        <p className="summary-line" data-testid="summary">
          {s.dumpName} · kube-proxy {inspect.mode}
          {inspect.layout !== 'unknown' ? ` (${inspect.layout} layout)` : ''}
          {/* nftables mode writes its own table: no iptables backend to name. */}
          {inspect.mode === 'nftables' ? '' : ` · iptables-${inspect.backend}`} · {inspect.nodePorts.length}{' '}
          NodePorts
        </p>
      )}
      {s.error && (
        <p className="error banner" role="alert" data-testid="error">
          {s.error}
        </p>
      )}
      <main className="layout layout--dump">
        <aside className="sidebar">
          <DumpLoader />
          {inspect && (
            <NodePortList
              rows={inspect.nodePorts}
              rowKey={portKey}
              searchText={searchText}
              selected={s.selected}
              onSelect={s.select}
              filter={s.filter}
              onFilter={s.setFilter}
              renderRow={(np) => (
                <NodePortRow
                  port={np.port}
                  protocol={np.protocol}
                  service={np.service}
                  detail={`${np.endpoints.length} endpoint${np.endpoints.length === 1 ? '' : 's'}`}
                  badges={[
                    ...(np.guarded ? [{ text: 'guarded', tone: 'guard' as const }] : []),
                    ...(np.noEndpoints ? [{ text: 'no endpoints', tone: 'warn' as const }] : []),
                    ...(np.localOnly ? [{ text: 'ETP Local', tone: 'plain' as const }] : []),
                  ]}
                />
              )}
            />
          )}
        </aside>
        <section className="content">
          {!inspect && (
            <p className="empty">Load a node's rules to see how each NodePort's packets travel.</p>
          )}
          {inspect?.warnings.map((w) => (
            <p className="warning" key={w}>
              {w}
            </p>
          ))}
          {s.detailError && (
            <p className="error" role="alert">
              {s.detailError}
            </p>
          )}
          {selected && (
            <>
              <h2 className="np-title">
                {selected.port}/{selected.protocol}{' '}
                <span className="muted">{selected.service ?? 'unnamed service'}</span>
              </h2>
              <PathDiagram np={selected} trace={s.trace} />
              <TraceBox
                target={`${selected.port}/${selected.protocol}`}
                src={s.traceSrc}
                dst={s.traceNode}
                busy={s.traceBusy}
                error={s.traceError}
                result={s.trace}
                onChange={s.setTraceInput}
                onTrace={() => void s.runTrace(selected)}
              />
            </>
          )}
        </section>
      </main>
    </>
  );
}
