// The override of apply's dataplane refusal, for one node at a time: where Cilium, Calico's eBPF
// dataplane or kube-router may serve NodePorts before netfilter, apply leaves the node alone unless
// the user says to guard it anyway (cluster.guardAnyway in the workspace); then verify's probes are
// the judge. Each refused node's line gets the button; nodes overridden are listed with an undo.
import { useState } from 'react';
import { api } from '../api/client';
import { useWorkspace } from '../workspace/workspace-store';
import { useRollout } from './rollout-store';

async function setAnyway(node: string, on: boolean): Promise<string | undefined> {
  const r = await api.setGuardAnyway({ node, on });
  if (!r.ok) return r.error.message;
  useWorkspace.getState().replace(r.value);
  await useRollout.getState().runPlan();
  return undefined;
}

export function GuardAnywayButton({ node }: { node: string }) {
  const busy = useRollout((s) => Boolean(s.busy));
  const [error, setError] = useState<string>();
  return (
    <>
      <button
        type="button"
        className="button button--small"
        disabled={busy}
        aria-label={`Guard ${node} anyway, and plan again; verify's probes then judge the guard there`}
        onClick={() => void setAnyway(node, true).then(setError)}
      >
        Guard anyway
      </button>
      {error && (
        <span className="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </>
  );
}

export function GuardedAnyway() {
  const nodes = useWorkspace((s) => s.workspace?.guardAnyway ?? []);
  const busy = useRollout((s) => Boolean(s.busy));
  const [error, setError] = useState<string>();
  if (nodes.length === 0) return null;
  return (
    <p className="muted" data-testid="guarded-anyway">
      Guarded anyway (their dataplane may bypass netfilter; run verify with probes):{' '}
      {nodes.map((n) => (
        <span key={n} className="inline">
          {n}{' '}
          <button
            type="button"
            className="button button--small"
            disabled={busy}
            aria-label={`Stop guarding ${n} anyway, and plan again`}
            onClick={() => void setAnyway(n, false).then(setError)}
          >
            Undo
          </button>{' '}
        </span>
      ))}
      {error && (
        <span className="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </p>
  );
}
