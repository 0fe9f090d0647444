// The window: a header that says where you are, and one of three screens (start, the cluster
// workspace, offline dump analysis). Stores by concern live in their feature folders.
import { useEffect } from 'react';
import { DumpScreen } from './dump/dump-screen';
import { HelpSheet, useShortcuts } from './shell/use-shortcuts';
import { StartScreen } from './start/start-screen';
import { WorkspaceScreen, WorkspaceSummary } from './workspace/workspace-screen';
import { useWorkspace } from './workspace/workspace-store';

export function App() {
  const screen = useWorkspace((s) => s.screen);
  const close = useWorkspace((s) => s.close);
  const [help, setHelp] = useShortcuts();
  // The Electron app menu: File > Open workspace returns to the start screen; Help > shortcuts.
  useEffect(
    () =>
      window.npg?.onMenu((msg) => {
        if (msg.action === 'shortcuts') setHelp(true);
        if (msg.action === 'open-workspace') void useWorkspace.getState().close();
      }),
    [setHelp],
  );
  return (
    <div className="app">
      <header className="topbar">
        <h1>NodePort Guard</h1>
        {screen === 'workspace' && <WorkspaceSummary />}
        <span className="spacer" />
        {screen !== 'start' && (
          <button type="button" className="button" onClick={() => void close()}>
            {screen === 'workspace' ? 'Close workspace' : 'Back to start'}
          </button>
        )}
        <button
          type="button"
          className="button"
          aria-label="Keyboard shortcuts"
          onClick={() => setHelp(!help)}
        >
          ?
        </button>
      </header>
      {screen === 'start' && <StartScreen />}
      {screen === 'workspace' && <WorkspaceScreen />}
      {screen === 'dump' && <DumpScreen />}
      {help && <HelpSheet onClose={() => setHelp(false)} />}
    </div>
  );
}
