// One-line input errors that name the offending value and where it sits (a workspace field path such
// as `policy.nodePorts[2].allow[5].cidr`, or a CLI flag), so nothing odd is ever passed along silently.

export interface FieldError {
  /** Where the value came from: `policy.nodePorts[2].allow[5].cidr`, `--allow`, ... */
  readonly path: string;
  /** What was wrong, already naming the value: `"10.0.0.300/24" is not an IPv4 or IPv6 address or CIDR`. */
  readonly reason: string;
  /** `path: reason`, the one line to show. */
  readonly message: string;
}

export function fieldError(path: string, reason: string): FieldError {
  return { path, reason, message: path ? `${path}: ${reason}` : reason };
}

const MAX_SHOWN = 80;

/**
 * A value as it may appear inside a one-line message: JSON-quoted (so newlines, quotes and control
 * characters are visible escapes, never raw) and cut to a readable length.
 */
export function showValue(value: string): string {
  const cut = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
  return JSON.stringify(cut);
}

/** `policy.nodePorts[2].allow` from `['policy', 'nodePorts', 2, 'allow']` (zod issue paths look like this). */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out ? `.${String(s)}` : String(s);
  }
  return out;
}
