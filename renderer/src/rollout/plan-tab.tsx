// The plan beside the list: per-node diff (nodes with the same plan grouped), warnings and
// errors in words, then Apply with per-node progress and the countdown to confirm.
import { useState } from 'react';
import { Countdown } from './countdown';
import { GuardAnywayButton, GuardedAnyway } from './guard-anyway';
import { GuardBackendSwitch } from './guard-backend';
import { Impact } from './impact';
import { groupedLineText, groupNodeLines } from './node-lines';
import { useRollout } from './rollout-store';

/** A destructive button that asks once more in place (no modal): the second click acts. */
function TwoStep({
  label,
  again,
  disabled,
  onGo,
}: {
  label: string;
  again: string;
  disabled: boolean;
  onGo: () => void;
}) {
  const [armed, setArmed] = useState(false);
  return (
    <button
      type="button"
      className="button button--danger"
      disabled={disabled}
      onBlur={() => setArmed(false)}
      onClick={() => {
        if (armed) {
          setArmed(false);
          onGo();
        } else setArmed(true);
      }}
    >
      {armed ? again : label}
    </button>
  );
}

export function PlanTab() {
  const s = useRollout();
  const plan = s.plan;
  const blocked = plan?.nodes.some((n) => n.errors.length > 0) ?? false;
  const due = plan?.nodes.some((n) => !n.noop) ?? false;
  return (
    <div className="tab-body">
      <GuardBackendSwitch />
      <div className="row">
        <button type="button" className="button" disabled={Boolean(s.busy)} onClick={() => void s.runPlan()}>
          {s.busy === 'plan' ? 'Planning…' : plan ? 'Plan again' : 'Plan'}
        </button>
        <label className="inline">
          Roll back unless confirmed within
          <input
            type="number"
            min={0}
            max={86400}
            value={s.confirmWithin}
            aria-label="Seconds to confirm before the nodes roll back (0: no countdown)"
            onChange={(e) => s.setConfirmWithin(Math.max(0, Math.min(86400, Number(e.target.value) || 0)))}
          />
          s
        </label>
        <button
          type="button"
          className="button button--primary"
          data-testid="apply"
          disabled={Boolean(s.busy) || !plan || s.planStale || blocked || !due}
          title={
            !plan
              ? 'Plan first'
              : s.planStale
                ? 'The policy changed since this plan: plan again'
                : blocked
                  ? 'The plan has errors'
                  : !due
                    ? 'Nothing to do'
                    : 'Apply (canary node first)'
          }
          onClick={() => void s.apply()}
        >
          {s.busy === 'apply' ? 'Applying…' : 'Apply'}
        </button>
        {s.confirmBy && (
          <section className="confirm-bar" aria-label="Confirm the change">
            <Countdown by={s.confirmBy} />
            <button
              type="button"
              className="button button--primary"
              data-testid="confirm"
              disabled={s.busy === 'confirm'}
              onClick={() => void s.confirm()}
            >
              Confirm
            </button>
            <button
              type="button"
              className="button button--danger"
              disabled={Boolean(s.busy)}
              onClick={() => void s.rollback()}
            >
              Roll back
            </button>
          </section>
        )}
        {!s.confirmBy && (
          <>
            <TwoStep
              label="Roll back last change"
              again="Click again: roll back on every node"
              disabled={Boolean(s.busy)}
              onGo={() => void s.rollback()}
            />
            <TwoStep
              label="Remove the guard"
              again="Click again: remove from every node"
              disabled={Boolean(s.busy)}
              onGo={() => void s.remove()}
            />
          </>
        )}
        {s.busy && (
          <button type="button" className="button" onClick={s.cancel}>
            Cancel
          </button>
        )}
        {s.phase && s.busy && <span className="muted">{s.phase}</span>}
      </div>
      {s.planStale && plan && (
        <p className="warning">
          The policy or the nodes changed since this plan: plan again before applying.
        </p>
      )}
      {s.change?.message && !s.busy && (
        <p
          className={s.change.exitCode === 0 ? 'notice' : 'warning'}
          data-testid="change-message"
          role="status"
        >
          {s.change.op}: {s.change.message}
        </p>
      )}
      {s.outcomes.length > 0 && (
        <ul className="outcome-list" data-testid="outcomes" aria-live="polite">
          {s.outcomes.map((o) => (
            <li key={o.node} className={`outcome-${o.status}`}>
              <code>{o.line}</code>
            </li>
          ))}
        </ul>
      )}
      {plan && <Impact />}
      {plan && (
        <div className="plan" data-testid="plan">
          {groupNodeLines(plan.nodes.map((n) => ({ node: n.node, lines: n.errors }))).map((g) => (
            <p key={`e ${g.text}`} className="error">
              {groupedLineText(g)}
            </p>
          ))}
          {groupNodeLines(plan.nodes.map((n) => ({ node: n.node, lines: n.warnings }))).map((g) => (
            <p key={`w ${g.text}`} className="warning">
              {groupedLineText(g)}
            </p>
          ))}
          {plan.backends.map((l) => (
            <p key={l} className="notice">
              {l}
            </p>
          ))}
          {plan.unplanned.map((u) => (
            <p key={u.node} className="error">
              {u.message} {u.dataplane && <GuardAnywayButton node={u.node} />}
            </p>
          ))}
          <GuardedAnyway />
          {plan.groups.map((g) => (
            <details key={g.nodes.join(',')} open={plan.groups.length <= 3}>
              <summary>
                {g.nodes.join(', ')}{' '}
                <span className="muted">
                  ({g.diff.length ? `${g.diff.length} changes` : 'nothing to do'})
                </span>
              </summary>
              <pre className="diff">
                {g.diff.map((l, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: diff lines repeat; their order is their identity
                  <span key={i} className={l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : ''}>
                    {l}
                    {'\n'}
                  </span>
                ))}
              </pre>
            </details>
          ))}
        </div>
      )}
    </div>
  );
}
