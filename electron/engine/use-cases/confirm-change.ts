// The confirm use case behind `npg confirm` and the desktop's Confirm button: stop the rollback
// timers of the last commit-confirmed change on the nodes it touched, and forget it locally once
// every node has confirmed (or had nothing pending).
import { type ConfirmOutcome, confirmNodes } from '../confirm.js';
import { type LocalStore, readPending, writePending } from '../local-store.js';
import type { Session } from '../session.js';
import { type ExitCode, type NodeStepEvent, stepListener, type UseCaseIo } from './io.js';

export interface ConfirmReport {
  readonly token: string | null;
  readonly outcomes: readonly ConfirmOutcome[];
  /** 0 confirmed (or nothing pending), 1 a node had rolled back already or holds another change, 2 unreachable. */
  readonly exitCode: ExitCode;
}

export function confirmExitCode(outcomes: readonly ConfirmOutcome[]): ExitCode {
  if (outcomes.some((o) => o.status === 'failed')) return 2;
  return outcomes.some((o) => o.status === 'expired' || o.status === 'other') ? 1 : 0;
}

export function confirmLine(o: ConfirmOutcome): string {
  return o.status === 'confirmed' ? `${o.node}: confirmed (${o.token})` : o.message;
}

export async function runConfirm(
  session: Session,
  store: LocalStore,
  req: { readonly nodes?: readonly string[] },
  io: UseCaseIo<NodeStepEvent<'confirm'>> = {},
): Promise<ConfirmReport> {
  const pending = await readPending(store);
  const nodes =
    req.nodes ?? (pending ? session.nodes.filter((n) => pending.nodes.includes(n)) : session.nodes);
  const onProgress = stepListener('confirm', io.onEvent);
  const outcomes = await confirmNodes(session, nodes, pending?.token, onProgress ? { onProgress } : {});
  const exitCode = confirmExitCode(outcomes);
  if (exitCode !== 2 && pending && outcomes.every((o) => o.status === 'confirmed' || o.status === 'none'))
    await writePending(store, undefined);
  return { token: pending?.token ?? null, outcomes, exitCode };
}
