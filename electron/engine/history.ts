// The local change history: one JSON object per line, appended (and fsynced) after every apply,
// rollback and remove, never rewritten. Reading tolerates a torn last line (a crash mid-append)
// and reports lines it cannot read instead of failing.
import { readFile } from 'node:fs/promises';
import { appendLine, type LocalStore } from './local-store.js';

export interface HistoryNodeResult {
  readonly node: string;
  /** unchanged | applied | stale | failed | skipped | blocked | unreachable | drift */
  readonly status: string;
  readonly message?: string;
  readonly stateHashBefore?: string;
  readonly stateHashAfter?: string;
  readonly timer?: string;
}

export interface HistoryRecord {
  readonly version: 1;
  readonly time: string;
  readonly operator: string;
  readonly op: 'apply' | 'rollback' | 'remove';
  readonly workspace: string;
  readonly token: string;
  readonly planHash: string;
  readonly policyHash?: string;
  readonly confirmWithinSeconds?: number;
  readonly outcome: 'ok' | 'difference' | 'failed';
  readonly nodes: readonly HistoryNodeResult[];
}

export async function appendHistory(store: LocalStore, record: HistoryRecord): Promise<void> {
  await appendLine(store.historyFile, JSON.stringify(record));
}

export interface HistoryRead {
  readonly records: readonly HistoryRecord[];
  /** One line per line that is not a record: `history.jsonl line 7: ...`. */
  readonly problems: readonly string[];
}

export async function readHistory(store: LocalStore): Promise<HistoryRead> {
  let text: string;
  try {
    text = await readFile(store.historyFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw err;
  }
  const records: HistoryRecord[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line) as HistoryRecord;
      if (v && v.version === 1 && typeof v.time === 'string' && Array.isArray(v.nodes)) records.push(v);
      else problems.push(`${store.historyFile} line ${i + 1}: not a history record`);
    } catch {
      problems.push(`${store.historyFile} line ${i + 1}: not JSON (torn write?)`);
    }
  });
  return { records, problems };
}
