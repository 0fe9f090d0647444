// The diagram's live counters: on by default while the NodePort is on screen, paused by the
// engineer or by the window being hidden; what moved since the last read, said in words; a read
// that failed says why beside the diagram, and the counters shown are marked as stale.
import { useEffect, useRef } from 'react';
import { deltaText, intervalText, LIVE_INTERVALS_MS } from './live-counters';
import { type LiveLoop, liveLoop } from './live-loop';
import { liveKey, useLive } from './live-store';
import { useSelection } from './selection-store';

const time = (iso: string | undefined) => (iso ? new Date(iso).toLocaleTimeString() : undefined);

/** Runs the refresh for the selected NodePort and node; renders nothing itself. */
function useLiveRefresh(key: string | undefined) {
  const on = useLive((s) => s.on);
  const intervalMs = useLive((s) => s.intervalMs);
  const loop = useRef<LiveLoop>(undefined);

  useEffect(() => {
    if (!on || !key) return;
    const l = liveLoop({
      read: (signal) => useLive.getState().read(signal),
      intervalMs: useLive.getState().intervalMs,
      visible: () => document.visibilityState === 'visible',
    });
    loop.current = l;
    l.start();
    const onVisibility = () => l.visibilityChanged();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      l.stop();
      loop.current = undefined;
      // A read stopped half-way leaves nothing in flight.
      useLive.setState({ busy: false });
    };
  }, [on, key]);

  useEffect(() => {
    loop.current?.setInterval(intervalMs);
  }, [intervalMs]);
}

export function LiveBar(props: { readonly discoveredAt?: string }) {
  const selected = useSelection((s) => s.selected);
  const node = useSelection((s) => s.node);
  const hasDetail = useSelection((s) => s.detail !== undefined);
  const store = useLive();
  const key = liveKey(selected, node);
  useLiveRefresh(hasDetail ? key : undefined);
  // What the store says about another NodePort or node (read before the switch) is not shown.
  const mine = store.forKey === key;
  const live = mine
    ? store
    : { ...store, readAt: undefined, delta: undefined, error: undefined, partial: [] };

  const shownAt = time(live.readAt ?? props.discoveredAt);
  const status = live.error
    ? `stale: counters of ${shownAt ?? 'the last read'}`
    : live.busy && !live.readAt
      ? 'reading…'
      : shownAt
        ? `read ${shownAt}`
        : '';
  return (
    <>
      <fieldset className="live-bar" aria-label="Live counters">
        <button
          type="button"
          className={`chip-button ${live.on ? 'chip-button--on' : ''}`}
          aria-pressed={live.on}
          title={live.on ? 'Pause: keep the counters shown now' : 'Read the counters again on a timer'}
          onClick={() => live.setOn(!live.on)}
        >
          <span className={`live-dot ${live.on ? 'live-dot--on' : ''}`} aria-hidden="true" />
          {live.on ? 'Live counters' : 'Live counters (paused)'}
        </button>
        <label className="muted">
          refresh{' '}
          <select
            value={live.intervalMs}
            aria-label="Refresh the counters"
            onChange={(e) => live.setIntervalMs(Number(e.target.value))}
          >
            {LIVE_INTERVALS_MS.map((ms) => (
              <option key={ms} value={ms}>
                {intervalText(ms)}
              </option>
            ))}
          </select>
        </label>
        <span
          className={live.error ? 'live-status live-status--stale' : 'live-status muted'}
          data-testid="live-status"
        >
          {status}
          {live.busy && live.readAt ? ' · reading…' : ''}
        </span>
        {!live.delta && live.readAt && !live.error && (
          <span className="muted">the path changed since the last read: changes show from the next one</span>
        )}
        {live.delta && !live.error && (
          <span
            className="live-delta"
            data-testid="live-delta"
            title="nat rules count the first packet of each connection: in effect, new connections"
          >
            {deltaText(live.delta)}
          </span>
        )}
      </fieldset>
      {live.error && (
        <p className="error live-error" role="alert" data-testid="live-error">
          Counters not refreshed: {live.error}.{' '}
          {live.on ? `Trying again ${intervalText(live.intervalMs)}.` : ''}
        </p>
      )}
      {!live.error && live.partial.length > 0 && (
        <p className="warning">Left out of the counters: {live.partial.join('; ')}</p>
      )}
    </>
  );
}
