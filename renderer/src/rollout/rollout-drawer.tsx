// The bottom drawer: what happens on the nodes. Plan / apply / confirm, verify, export, history.
import { ExportTab } from './export-tab';
import { HistoryTab } from './history-tab';
import { PlanTab } from './plan-tab';
import { type DrawerTab, useRollout } from './rollout-store';
import { VerifyTab } from './verify-tab';

const TABS: readonly { id: DrawerTab; label: string; key: string }[] = [
  { id: 'plan', label: 'Plan · Apply', key: 'P' },
  { id: 'verify', label: 'Verify', key: 'V' },
  { id: 'export', label: 'Export', key: 'E' },
  { id: 'history', label: 'History', key: 'H' },
];

export function RolloutDrawer() {
  const tab = useRollout((s) => s.tab);
  const setTab = useRollout((s) => s.setTab);
  const error = useRollout((s) => s.error);
  return (
    <section className="drawer" aria-label="Rollout">
      <div className="tabs" role="tablist" aria-label="Rollout steps">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            className={`tab ${tab === t.id ? 'tab--on' : ''}`}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {error && (
        <p className="error" role="alert" data-testid="rollout-error">
          {error}
        </p>
      )}
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="drawer-body">
        {tab === 'plan' && <PlanTab />}
        {tab === 'verify' && <VerifyTab />}
        {tab === 'export' && <ExportTab />}
        {tab === 'history' && <HistoryTab />}
      </div>
    </section>
  );
}
