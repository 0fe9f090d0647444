// The one exception the parser's inner steps throw. parseIptablesSave catches it at the top and
// turns it into the `{ok: false, error}` result, adding the line number and the offending text, so
// inner code can stop at the first problem without threading results through every call.

export class NetfilterSyntaxError extends Error {
  /** 1-based line, when the thrower knows a better line than the one being parsed. */
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(message);
    this.name = 'NetfilterSyntaxError';
    this.line = line;
  }
}

export function fail(message: string, line?: number): never {
  throw new NetfilterSyntaxError(message, line);
}
