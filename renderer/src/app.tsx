import { useMemo } from 'react';
import { createClient } from './api/client';
import { DumpLoader } from './components/dump-loader';
import { NodePortList } from './components/nodeport-list';
import { PathView } from './components/path-view';
import { TracePanel } from './components/trace-panel';
import { selectSelected, useApp } from './state/store';

export function App() {
  const api = useMemo(() => createClient(), []);
  const inspect = useApp((s) => s.inspect);
  const error = useApp((s) => s.error);
  const dumpName = useApp((s) => s.dumpName);
  const selected = useApp(selectSelected);

  return (
    <div className="app">
      <header className="topbar">
        <h1>NodePort Guard</h1>
        {inspect && (
          <span className="summary" data-testid="summary">
            {dumpName} · kube-proxy {inspect.mode}
            {inspect.layout !== 'unknown' ? ` (${inspect.layout} layout)` : ''} · iptables-{inspect.backend} ·{' '}
            {inspect.nodePorts.length} NodePorts
          </span>
        )}
      </header>
      {error && (
        <p className="error banner" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <main className="layout">
        <aside className="sidebar">
          <DumpLoader api={api} />
          {inspect && <NodePortList />}
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
          {selected && (
            <>
              <h2 className="np-title">
                {selected.port}/{selected.protocol}{' '}
                <span className="muted">{selected.service ?? 'unnamed service'}</span>
              </h2>
              <PathView np={selected} />
              <TracePanel api={api} np={selected} />
            </>
          )}
        </section>
      </main>
    </div>
  );
}
