// The middle column: the selected NodePort's path on one node (the diagram), its rules on a
// click, and the live trace on that node.
import { useEffect } from 'react';
import { useNodes } from '../nodes/nodes-store';
import { TraceBox } from '../trace/trace-box';
import { ChainRules } from './chain-rules';
import { LiveBar } from './live-bar';
import { liveKey, useLive } from './live-store';
import { PathDiagram } from './path-diagram';
import { ALL, useSelection } from './selection-store';

/** While the nodes wait on a person, the big empty middle says so: the question is in a corner. */
function waitingFor(hostKeys: number, credentials: number): string | undefined {
  if (credentials > 0)
    return 'Waiting for you: a key’s passphrase is asked in the Nodes panel (bottom left). The nodes connect once it is answered or skipped.';
  if (hostKeys > 0)
    return `Waiting for you: ${hostKeys === 1 ? 'a host key needs' : `${hostKeys} host keys need`} a decision in the Nodes panel (bottom left).`;
  return undefined;
}

export function PathPanel() {
  const cluster = useNodes((s) => s.cluster);
  const waiting = useNodes((s) => waitingFor(s.prompts.length, s.credentials.length));
  const sel = useSelection();
  const stale = useLive((s) => s.error !== undefined && s.forKey === liveKey(sel.selected, sel.node));
  const np = cluster?.nodePorts.find((p) => `${p.protocol}/${p.port}` === sel.selected);

  // A new read of the nodes (refresh, or after a change) redraws the path from it.
  const loadDetail = sel.loadDetail;
  useEffect(() => {
    if (cluster) void loadDetail();
  }, [cluster, loadDetail]);

  // Draw the first node that serves the port unless the user picked one that does.
  useEffect(() => {
    if (np && (!sel.node || (sel.node !== ALL && !np.nodes.includes(sel.node)))) sel.setNode(np.nodes[0]);
  }, [np, sel.node, sel.setNode]);

  if (!cluster)
    return waiting ? (
      <p className="empty empty--waiting" data-testid="waiting-for-you">
        {waiting}
      </p>
    ) : (
      <p className="empty">Nodes are being read; the NodePorts appear as they answer.</p>
    );
  if (!np)
    return <p className="empty">Pick a NodePort on the left (type its port or service name to find it).</p>;
  return (
    <div className="path-panel">
      <header className="np-head">
        <h2 className="np-title">
          {np.port}/{np.protocol} <span className="muted">{np.service ?? 'unnamed service'}</span>
        </h2>
        <span className="muted">
          guarded on {np.guardedOn.length}/{np.nodes.length}
          {np.differsOn.length > 0 ? ` · differs on ${np.differsOn.join(', ')}` : ''}
        </span>
      </header>
      <div className="node-picker" role="toolbar" aria-label="Node whose path is drawn">
        {np.nodes.length > 1 && (
          <button
            type="button"
            aria-pressed={sel.node === ALL}
            className={`chip-button ${sel.node === ALL ? 'chip-button--on' : ''}`}
            title="The first node's path with every node's counters added up"
            onClick={() => sel.setNode(ALL)}
          >
            all nodes (sum)
          </button>
        )}
        {np.nodes.map((n) => (
          <button
            key={n}
            type="button"
            aria-pressed={n === sel.node}
            className={`chip-button ${n === sel.node ? 'chip-button--on' : ''}`}
            onClick={() => sel.setNode(n)}
          >
            {n}
            {np.guardedOn.includes(n) ? ' ●' : ''}
          </button>
        ))}
      </div>
      {sel.detailError && (
        <p className="error" role="alert">
          {sel.detailError}
        </p>
      )}
      {sel.detail && <LiveBar discoveredAt={cluster.readAt} />}
      {sel.detail && (
        <div className={stale ? 'counters-stale' : undefined} data-stale={stale || undefined}>
          <PathDiagram np={sel.detail} trace={sel.trace} onChainClick={(c) => void sel.openChain(c)} />
        </div>
      )}
      {sel.chainError && (
        <p className="error" role="alert">
          {sel.chainError}
        </p>
      )}
      {sel.chain && <ChainRules chain={sel.chain} onClose={() => void sel.openChain(undefined)} />}
      <TraceBox
        target={`${np.port}/${np.protocol} on ${sel.node === ALL ? np.nodes[0] : (sel.node ?? '?')}`}
        src={sel.traceSrc}
        dst={sel.traceDst}
        dstOptional
        busy={sel.traceBusy}
        error={sel.traceError}
        result={sel.trace}
        onChange={sel.setTraceInput}
        onTrace={() => void sel.runTrace()}
      />
    </div>
  );
}
