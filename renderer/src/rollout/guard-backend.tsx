// The workspace's guard backend (policy.guardBackend), beside the plan it changes: NPG- chains in
// iptables (the default) or our own nft table, which a kube-proxy restart or a flush of iptables'
// PREROUTING cannot reorder or remove. Saved at once; the next apply switches the nodes, writing
// the new guard before it removes the old one. kube-proxy's nftables mode takes nft either way.
import { useId, useState } from 'react';
import type { GuardBackend } from '../../../shared/vocabulary';
import { api } from '../api/client';
import { useWorkspace } from '../workspace/workspace-store';
import { useRollout } from './rollout-store';

const CHOICES: readonly { value: GuardBackend; label: string; hint: string }[] = [
  {
    value: 'iptables',
    label: 'iptables chains',
    hint: 'NPG- chains in nat PREROUTING, before kube-proxy’s jump',
  },
  {
    value: 'nft',
    label: 'nft table',
    hint: 'table inet nodeport-guard at dstnat - 10: kube-proxy restarts cannot reorder it',
  },
];

export function GuardBackendSwitch() {
  const current = useWorkspace((s) => s.workspace?.guardBackend ?? 'iptables');
  const busy = useRollout((s) => Boolean(s.busy));
  const markStale = useRollout((s) => s.markStale);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();
  const name = useId();
  const errorId = `${name}-error`;

  async function choose(backend: GuardBackend) {
    if (backend === current) return;
    setSaving(true);
    setError(undefined);
    const r = await api.setGuardBackend({ backend });
    setSaving(false);
    if (!r.ok) {
      setError(r.error.message);
      return;
    }
    useWorkspace.getState().replace(r.value.workspace);
    setNote(r.value.notes[0]);
    markStale();
  }

  return (
    <fieldset className="guard-backend" aria-describedby={error ? errorId : undefined}>
      <legend>Guard on iptables and ipvs nodes</legend>
      {CHOICES.map((c) => (
        <label key={c.value} className="inline" title={c.hint}>
          <input
            type="radio"
            name={name}
            value={c.value}
            checked={current === c.value}
            disabled={saving || busy}
            onChange={() => void choose(c.value)}
          />
          {c.label}
        </label>
      ))}
      <span className="muted">nftables-mode nodes always take the nft table</span>
      {error && (
        <p className="error" id={errorId} role="alert">
          {error}
        </p>
      )}
      {note && !error && (
        <p className="notice" role="status">
          {note}: plan, then apply.
        </p>
      )}
    </fieldset>
  );
}
