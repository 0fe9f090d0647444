// What `npg inspect --file FIXTURE [--json]` prints, for every fixture, pinned in __answers__/.
// The files were written by the build of main before the two readers were folded into one
// (issue 12) and are compared byte for byte: the one path answers exactly as both paths did. A
// deliberate change of an answer (say, a corrected NodePort) shows here as a diff to review.
import { describe, expect, it } from 'vitest';
import { toInspectJson } from '../../shared/kube/index.js';
import { fixture, fixtureNames } from '../../shared/test-support/dumps.js';
import { inspectDump } from '../engine/inspect.js';
import { humanReport } from './commands/inspect-report.js';

const DUMP = /\.(ip6?tables-save(-c|-t-nat)?|ip6?tables-t-nat-S(-v)?|kube-proxy-restore|grep-\d+)\.txt$/;
const companions = new Set(fixtureNames(/\.(ipset-list|ipvsadm-Ln)\.txt$/));

function companion(name: string, kind: 'ipset-list' | 'ipvsadm-Ln') {
  const file = `${name.replace(/\.ip6?tables-save\.txt$/, '')}.${kind}.txt`;
  return file !== `${name}.${kind}.txt` && companions.has(file)
    ? { text: fixture(file), source: file }
    : undefined;
}

describe('npg inspect answers', () => {
  const dumps = fixtureNames(DUMP).filter((name) => inspectDump({ text: fixture(name), source: name }).ok);

  it('covers the fixtures with a nat table', () => {
    expect(dumps.length).toBeGreaterThan(40);
  });

  it.each(dumps)('%s', async (name) => {
    const ipsets = companion(name, 'ipset-list');
    const ipvs = companion(name, 'ipvsadm-Ln');
    const r = inspectDump({
      text: fixture(name),
      source: name,
      ...(ipsets ? { ipsets } : {}),
      ...(ipvs ? { ipvs } : {}),
    });
    if (!r.ok) throw new Error(r.message);
    const json = toInspectJson(r.value.topology);
    await expect(`${JSON.stringify(json)}\n`).toMatchFileSnapshot(`__answers__/${name}.json`);
    await expect(`${humanReport(json, r.value.warnings)}\n`).toMatchFileSnapshot(`__answers__/${name}.table`);
  });
});
