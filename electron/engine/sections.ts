// The wire format between the engine and its node scripts (node-scripts.ts), both ways, as pure
// functions: script output is marker lines (`%%npg KEY VALUE...`) and sections
// (`%%npg begin NAME` ... `%%npg end NAME RC`); script input is files (`%%npg file NAME` + body).

export interface Section {
  readonly name: string;
  /** The command's stdout, exactly. */
  readonly body: string;
  /** Its exit status. */
  readonly rc: number;
}

export interface ScriptOutput {
  readonly sections: ReadonlyMap<string, Section>;
  /** Single marker lines: key -> values (the last one wins for repeated keys). */
  readonly markers: ReadonlyMap<string, readonly string[]>;
  /** Every marker line in order (`restored v4`, `undone v4`, ...). */
  readonly events: readonly (readonly string[])[];
}

const MARK = '%%npg ';

export function parseScriptOutput(text: string): ScriptOutput {
  const sections = new Map<string, Section>();
  const markers = new Map<string, readonly string[]>();
  const events: string[][] = [];
  let pos = 0;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    const line = text.slice(pos, eol === -1 ? text.length : eol);
    const next = eol === -1 ? text.length : eol + 1;
    if (!line.startsWith(MARK)) {
      pos = next;
      continue;
    }
    const words = line.slice(MARK.length).split(' ');
    const [key = '', ...values] = words;
    if (key === 'begin' && values[0]) {
      const name = values[0];
      const endTag = `\n${MARK}end ${name} `;
      const end = text.indexOf(endTag, next);
      if (end === -1) {
        // Cut off mid-section (connection lost, output limit): keep what arrived, rc unknown.
        sections.set(name, { name, body: text.slice(next), rc: -1 });
        break;
      }
      const endEol = text.indexOf('\n', end + endTag.length);
      const rcText = text.slice(end + endTag.length, endEol === -1 ? text.length : endEol);
      // The script prints a newline after the output, so the end marker starts a line: body is exact.
      sections.set(name, {
        name,
        body: text.slice(next, end),
        rc: /^\d+$/.test(rcText) ? Number(rcText) : -1,
      });
      pos = endEol === -1 ? text.length : endEol + 1;
      continue;
    }
    markers.set(key, values);
    events.push(words);
    pos = next;
  }
  return { sections, markers, events };
}

export function markerValue(out: ScriptOutput, key: string): string | undefined {
  const v = out.markers.get(key);
  return v === undefined ? undefined : v.join(' ');
}

/** Input for a script: named files. Names are fixed by the engine ([a-z0-9.]). */
export function encodeBundle(files: ReadonlyMap<string, string>): string {
  const parts: string[] = [];
  for (const [name, content] of files) {
    if (!/^[a-z0-9]+(\.[a-z0-9]+)*$/.test(name))
      throw new RangeError(`bad bundle file name ${JSON.stringify(name)}`);
    if (content.split('\n').some((l) => l.startsWith(MARK)))
      throw new RangeError(`bundle file ${name} contains a marker line`);
    parts.push(`${MARK}file ${name}\n${content.endsWith('\n') || content === '' ? content : `${content}\n`}`);
  }
  return parts.join('');
}
