// What a use case gets from its face (CLI or desktop) besides its request: a way to stop, a place
// to report progress, and the question to a person between planning and changing. The use cases
// never write to a terminal; the face decides what to show.
import type { ProgressEvent, ProgressListener } from '../../fleet/index.js';

/** The CLI's contract: 0 ok, 1 the check found a difference, 2 bad input or failure to run. */
export type ExitCode = 0 | 1 | 2;

export interface UseCaseIo<E> {
  /** Stops the use case: nothing new starts, and a change not yet sent is not sent. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: E) => void;
  /**
   * Asked once before nodes change. false: nothing changes. Absent: the caller has already decided
   * (the desktop asks before it calls).
   */
  readonly confirm?: (question: string) => Promise<boolean>;
}

/** One node's step of a fleet call, as the faces show it. */
export interface NodeStepEvent<K extends string> {
  readonly kind: K;
  readonly node: string;
  readonly phase: 'start' | 'done' | 'failed';
  readonly message?: string;
  readonly durationMs?: number;
}

/**
 * The fleet's progress as step events of `kind`. The fleet says `connecting` (per hop) and then
 * `running` (per command); a face wants one `start` per node, so only the first is passed on.
 */
export function stepListener<K extends string>(
  kind: K,
  emit: ((e: NodeStepEvent<K>) => void) | undefined,
): ProgressListener | undefined {
  if (!emit) return undefined;
  const started = new Set<string>();
  return (e) => {
    if (e.phase === 'connecting' || e.phase === 'running') {
      if (started.has(e.node)) return;
      started.add(e.node);
      emit({ kind, node: e.node, phase: 'start' });
    } else if (e.phase === 'done') emit({ kind, node: e.node, phase: 'done', durationMs: e.durationMs });
    else emit({ kind, node: e.node, phase: 'failed', message: e.message, durationMs: e.durationMs });
  };
}

/** A step event back as the fleet's event, for faces that already print fleet progress (the CLI). */
export function progressOf(e: NodeStepEvent<string>): ProgressEvent {
  switch (e.phase) {
    case 'start':
      return { node: e.node, phase: 'running', op: e.kind };
    case 'done':
      return { node: e.node, phase: 'done', durationMs: e.durationMs ?? 0 };
    case 'failed':
      return { node: e.node, phase: 'failed', message: e.message ?? 'failed', durationMs: e.durationMs ?? 0 };
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (a watch must stop without waiting). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
