// The right column: the selected NodePort's allow-list, its palette (saved groups, sources seen
// now) and what it would cut off, then Save (which re-plans). The editor is a controlled
// component; this panel binds it to the policy store.
import { useEffect, useMemo } from 'react';
import { AllowListEditor } from '../allow-list/allow-list-editor';
import { useSelection } from '../nodeports/selection-store';
import { useNodes } from '../nodes/nodes-store';
import { groupedLineText, groupNodeLines } from '../rollout/node-lines';
import { useRollout } from '../rollout/rollout-store';
import { useWorkspace } from '../workspace/workspace-store';
import { type Draft, sameDraft, savedDraft, usePolicy } from './policy-store';

const EMPTY: Draft = { entries: [], mode: 'enforce' };

export function PolicyPanel() {
  const key = useSelection((s) => s.selected);
  const ws = useWorkspace((s) => s.workspace);
  const np = useNodes((s) => s.cluster?.nodePorts.find((p) => `${p.protocol}/${p.port}` === key));
  const p = usePolicy();
  const plan = useRollout((s) => s.plan);
  const planStale = useRollout((s) => s.planStale);
  const runPlan = useRollout((s) => s.runPlan);
  const markStale = useRollout((s) => s.markStale);
  const saved = key ? savedDraft(ws, key) : undefined;
  const draft = (key && p.drafts[key]) || saved || EMPTY;
  const dirty = Boolean(key && p.drafts[key] && !sameDraft(p.drafts[key], saved));
  const loadObserved = p.loadObserved;

  useEffect(() => {
    if (key) void loadObserved(key);
  }, [key, loadObserved]);

  const warnings = useMemo(() => {
    if (!key || !plan) return [];
    const mark = `${key}:`;
    return groupNodeLines(plan.nodes.map((n) => ({ node: n.node, lines: [...n.errors, ...n.warnings] })))
      .filter((g) => g.text.startsWith(mark))
      .map((g) => groupedLineText(g));
  }, [key, plan]);

  if (!key || !ws) return <p className="muted pad">Pick a NodePort to edit who may reach it.</p>;
  const observed = (p.observed[key] ?? []).map((o) => ({
    source: o.source,
    count: o.count,
    nodes: [...o.nodes],
  }));

  return (
    <section className="policy" aria-label={`Allow-list of ${key}`}>
      <AllowListEditor
        portLabel={`${key}${np?.service ? ` ${np.service}` : ''}`}
        entries={draft.entries.map((e) => ({ cidr: e.cidr, ...(e.label ? { label: e.label } : {}) }))}
        onChange={(entries) => p.edit(key, { ...draft, entries })}
        groups={ws.groups.map((g) => ({ name: g.name, entries: g.entries.map((e) => ({ ...e })) }))}
        observed={observed}
        observedLoading={p.observedBusy[key]}
        observedError={p.observedError[key]}
        onRefreshObserved={() => void loadObserved(key)}
        onSaveGroup={(name, entries) => void p.saveGroup(name, entries)}
        mode={draft.mode}
        onModeChange={(mode) => p.edit(key, { ...draft, mode })}
        // The plan's node-aware warnings replace the ones known from the policy alone (which would
        // otherwise say the same thing twice) as soon as a fresh plan is there.
        warnings={plan && !planStale ? warnings : p.warnings.filter((w) => w.startsWith(`${key}:`))}
      />
      {p.error && (
        <p className="error" role="alert" data-testid="policy-error">
          {p.error}{' '}
          {p.error.includes('changed by someone else') && (
            <button
              type="button"
              className="link-button"
              onClick={() => void useWorkspace.getState().open(ws.path)}
            >
              Reopen the workspace to see their change
            </button>
          )}
        </p>
      )}
      {p.notes.length > 0 && (
        <ul className="notes">
          {p.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <div className="row">
        <button
          type="button"
          className="button button--primary"
          data-testid="save-policy"
          disabled={!dirty || p.saving}
          title="Save the allow-list to the workspace and plan (Ctrl+S)"
          onClick={async () => {
            if (await p.save(key, np?.service)) {
              markStale();
              void runPlan();
            }
          }}
        >
          {p.saving ? 'Saving…' : saved ? 'Save and plan' : 'Guard this port'}
        </button>
        {dirty && (
          <button type="button" className="button" onClick={() => p.discard(key)}>
            Discard edits
          </button>
        )}
        {saved && !dirty && (
          <button
            type="button"
            className="button button--danger"
            onClick={async () => {
              if (await p.unguard(key)) {
                markStale();
                void runPlan();
              }
            }}
          >
            Stop guarding
          </button>
        )}
      </div>
    </section>
  );
}
