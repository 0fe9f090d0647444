// The commit-confirmed countdown: the nodes restore their old guard when it runs out.
import { useEffect, useState } from 'react';

export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function Countdown({ by }: { by: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, []);
  const left = by - now;
  return (
    <span
      className={`countdown ${left < 30_000 ? 'countdown--low' : ''}`}
      data-testid="countdown"
      role="timer"
      aria-live="off"
    >
      {left > 0 ? formatLeft(left) : 'rolling back…'}
    </span>
  );
}
