// Reading and writing the workspace file. Every reader (UI, CLI, lab) goes through parseWorkspace, so a
// corrupt or hostile file is turned away here with one line naming the field, before anything reaches a
// node.
import { LineCounter, parseDocument, stringify } from 'yaml';
import { formatPath } from '../guard/field-error';
import { type Workspace, WorkspaceSchema } from './schema';

export type ParseWorkspaceResult =
  | { readonly ok: true; readonly workspace: Workspace }
  | {
      readonly ok: false;
      /** The first problem, one line: `policy.nodePorts[2].allow[5].cidr: "10.0.0.300/24" is not ...`. */
      readonly error: string;
      /** Every problem found, one line each. */
      readonly errors: readonly string[];
    };

/** Generous for a workspace; stops a YAML alias bomb or a wrong file from eating the process. */
const MAX_BYTES = 4 * 1024 * 1024;

export function parseWorkspace(text: string): ParseWorkspaceResult {
  if (text.length > MAX_BYTES) return failed([`workspace: file is larger than ${MAX_BYTES} bytes`]);
  // uniqueKeys: a key given twice is an error, not "last one wins"; maxAliasCount bounds alias expansion.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    return failed(
      doc.errors.map((e) => `workspace: YAML ${oneLine(e.message)}${at(lineCounter.linePos(e.pos[0]))}`),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return failed([`workspace: YAML ${oneLine(e instanceof Error ? e.message : String(e))}`]);
  }
  if (data === null || data === undefined) return failed(['workspace: the file is empty']);
  const r = WorkspaceSchema.safeParse(data);
  if (!r.success) {
    return failed(r.error.issues.map((i) => `${formatPath(i.path) || 'workspace'}: ${oneLine(i.message)}`));
  }
  return { ok: true, workspace: r.data };
}

/**
 * The workspace as YAML, keys in schema order. Comments of a file read earlier are not kept: the file is
 * data written by the tools, and the round trip parse(serialize(ws)) gives ws back.
 */
export function serializeWorkspace(ws: Workspace): string {
  return stringify(ws, { lineWidth: 0, indent: 2 });
}

function failed(errors: readonly string[]): ParseWorkspaceResult {
  return { ok: false, error: errors[0] ?? 'workspace: invalid', errors };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function at(pos: { line: number; col: number }): string {
  return ` (line ${pos.line}, column ${pos.col})`;
}
