import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ApiResult, NodePortView } from '../../shared/api.js';
import { findTable, type Table } from '../../shared/netfilter/model.js';
import { parseOk } from '../../shared/test-support/dumps.js';
import { overlayCounters } from './live-counters.js';
import { DumpStore } from './service/dumps.js';
import { createEngineService } from './service.js';

const NODE1 = readFileSync('e2e/lab/fixtures/lab-iptables-current-node1.iptables-save.txt', 'utf8');

function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** The view the full read (inspect + topology) gives for a dump. */
function fullView(text: string, port = 30001): NodePortView {
  const dumps = new DumpStore();
  const { dumpId } = value(dumps.inspect({ text }));
  return value(dumps.nodePort({ dumpId, port, protocol: 'tcp' }));
}

/** Every rule counter moved on: packets * 3 + 7, bytes * 3 + 420 (as if traffic had flowed). */
const moved = (text: string) =>
  text.replace(/^\[(\d+):(\d+)\] -A /gm, (_m, p, b) => `[${Number(p) * 3 + 7}:${Number(b) * 3 + 420}] -A `);

const natOf = (text: string): Table => findTable(parseOk(text, { family: 'ipv4' }).ruleset, 'nat')!;

const counters = (v: NodePortView) => ({
  path: v.path.map((s) => [s.chain, s.packets, s.bytes]),
  endpoints: v.endpoints.map((e) => [e.address, e.packets, e.bytes]),
});

describe('overlayCounters', () => {
  it('gives the same counters as a full read of the fresh dump, on the old path', () => {
    const base = fullView(NODE1);
    const fresh = moved(NODE1);
    const r = overlayCounters(base, natOf(fresh));
    expect(r.missing).toBe(0);
    expect(counters(r.view)).toEqual(counters(fullView(fresh)));
    // The counters did move, so the test is not comparing a view with itself.
    expect(counters(r.view)).not.toEqual(counters(base));
    expect(r.view.path.some((s) => (s.packets ?? 0) > 0)).toBe(true);
    expect(r.view.notes).toEqual(base.notes);
  });

  it('drops the counters of a rule that is gone and says to read again', () => {
    const base = fullView(NODE1);
    const gone = NODE1.split('\n')
      .filter((l) => !/-A KUBE-NODEPORTS .*--dport 30001 /.test(l))
      .join('\n');
    const r = overlayCounters(base, natOf(gone));
    expect(r.missing).toBe(1);
    const step = r.view.path.find((s) => s.via?.includes('--dport 30001'));
    expect(step).toBeDefined();
    expect(step?.packets).toBeUndefined();
    expect(r.view.notes[0]).toMatch(/1 counted rule is gone since the nodes were last read/);
  });
});

describe('nodePortCounters (the service)', () => {
  it('asks for a workspace first, in words', async () => {
    const engine = createEngineService();
    const r = await engine.nodePortCounters(
      { node: 'node1', port: 30001, protocol: 'tcp', family: 'ipv4' },
      { signal: new AbortController().signal, emit: () => undefined },
    );
    expect(r).toEqual({
      ok: false,
      error: { code: 'bad-input', message: 'counters: no workspace is open; open or create one first' },
    });
  });
});
