// The keyboard shortcuts, wired to the stores, and the help sheet that lists them.
import { useEffect, useRef, useState } from 'react';
import { useSelection } from '../nodeports/selection-store';
import { useNodes } from '../nodes/nodes-store';
import { usePolicy } from '../policy/policy-store';
import { useRollout } from '../rollout/rollout-store';
import { useWorkspace } from '../workspace/workspace-store';
import { type Action, actionFor, SHORTCUTS } from './shortcuts';

function inField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return Boolean(el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)));
}

function run(action: Action, setHelp: (v: boolean | ((v: boolean) => boolean)) => void): boolean {
  const inWorkspace = useWorkspace.getState().screen === 'workspace';
  const rollout = useRollout.getState();
  switch (action) {
    case 'help':
      setHelp((v) => !v);
      return true;
    case 'close':
      setHelp(false);
      return false;
    case 'filter': {
      const el = document.querySelector<HTMLInputElement>('[data-testid="nodeport-filter"]');
      el?.focus();
      return Boolean(el);
    }
    default:
      if (!inWorkspace) return false;
  }
  switch (action) {
    case 'refresh':
      void useNodes.getState().discover();
      return true;
    case 'plan':
      rollout.setTab('plan');
      void rollout.runPlan();
      return true;
    case 'save': {
      const key = useSelection.getState().selected;
      if (!key) return false;
      void usePolicy
        .getState()
        .save(key)
        .then((ok) => ok && void useRollout.getState().runPlan());
      return true;
    }
    case 'verify':
      rollout.setTab('verify');
      void rollout.runVerify();
      return true;
    case 'watch':
      rollout.setTab('verify');
      rollout.toggleWatch();
      return true;
    case 'export':
      rollout.setTab('export');
      return true;
    case 'history':
      rollout.setTab('history');
      return true;
    default:
      return false;
  }
}

export function useShortcuts(): [boolean, (v: boolean) => void] {
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = actionFor({
        key: e.key,
        ctrlKey: e.ctrlKey,
        metaKey: e.metaKey,
        altKey: e.altKey,
        inField: inField(e.target),
      });
      if (action && run(action, setHelp)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return [help, setHelp];
}

export function HelpSheet({ onClose }: { onClose: () => void }) {
  // The sheet was asked for: its Close button takes the focus, so Enter or Esc dismisses it.
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div className="sheet" role="dialog" aria-modal="false" aria-labelledby="help-h">
      <header className="panel-head">
        <h2 id="help-h">Keyboard shortcuts</h2>
        <button type="button" className="button" onClick={onClose} ref={close}>
          Close
        </button>
      </header>
      <table>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        In the allow-list: focus a chip, Space picks it up, arrows move it, Space drops, Esc cancels; Delete
        removes a chip.
      </p>
    </div>
  );
}
