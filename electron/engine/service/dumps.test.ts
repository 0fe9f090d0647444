// Offline analysis through the engine service: a dump is sent once (inspect) and then named by its
// id for traces and chain listings; a few dumps are kept, the oldest dropped first.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ApiResult } from '../../../shared/api.js';
import { createEngineService } from '../service.js';
import { DumpStore } from './dumps.js';

const NODE1 = readFileSync('e2e/lab/fixtures/lab-iptables-current-node1.iptables-save.txt', 'utf8');
const NODE1_V6 = readFileSync('e2e/lab/fixtures/lab-iptables-current-node1.ip6tables-save.txt', 'utf8');
const call = () => ({ signal: new AbortController().signal, emit: () => undefined });

function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('inspect, then trace and chainRules by dumpId', () => {
  it('lists the lab NodePorts and keeps the dump for a trace and a chain listing', async () => {
    const engine = createEngineService();
    const inspected = value(await engine.inspect({ text: NODE1 }, call()));
    expect(inspected.dumpId).toMatch(/^[0-9a-f-]{36}$/);
    expect(inspected.mode).toBe('iptables');
    const ports = inspected.nodePorts.map((p) => `${p.port}/${p.protocol}`);
    expect(ports).toEqual(expect.arrayContaining(['30001/tcp', '30002/udp', '30005/sctp', '30007/tcp']));
    const web = inspected.nodePorts.find((p) => p.port === 30001)!;
    expect(web.endpoints.length).toBeGreaterThan(0);
    // The list carries no paths; one NodePort's path comes by id.
    expect(web).not.toHaveProperty('path');
    const detail = value(
      await engine.dumpNodePort({ dumpId: inspected.dumpId, port: 30001, protocol: 'tcp' }, call()),
    );
    expect(detail.path.map((s) => s.chain)).toContain('KUBE-NODEPORTS');
    expect(detail.endpoints.map((e) => e.address)).toEqual(web.endpoints);
    const missing = await engine.dumpNodePort(
      { dumpId: inspected.dumpId, port: 31999, protocol: 'tcp' },
      call(),
    );
    expect(!missing.ok && missing.error.message).toBe('tcp/31999: not a NodePort of this dump');

    const traced = value(
      await engine.trace(
        {
          source: { dumpId: inspected.dumpId },
          src: '198.18.100.13',
          dst: '198.18.0.11',
          dport: 30001,
          protocol: 'tcp',
        },
        call(),
      ),
    );
    expect(traced.outcomes.length).toBeGreaterThan(0);
    expect(traced.outcomes.every((o) => o.verdict === 'dnat')).toBe(true);
    const total = traced.outcomes.reduce((s, o) => s + o.probability, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(traced.outcomes[0]!.hops.map((h) => h.chain)).toEqual(
      expect.arrayContaining(['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS']),
    );

    const chain = value(
      await engine.chainRules(
        { source: { dumpId: inspected.dumpId }, chain: 'KUBE-NODEPORTS', family: 'ipv4' },
        call(),
      ),
    );
    expect(chain.chain).toBe('KUBE-NODEPORTS');
    expect(chain.rules.map((r) => r.number)).toEqual(chain.rules.map((_, i) => i + 1));
    const rule30001 = chain.rules.find((r) => r.text.includes('--dport 30001'));
    expect(rule30001?.text).toMatch(/^-A KUBE-NODEPORTS -p tcp .*-j KUBE-EXT-/);
    expect(rule30001?.packets).toBe(5);
    expect(rule30001?.bytes).toBe(300);
    // The nat table's chain, not the filter table's health-check rule of the same name.
    expect(chain.rules.some((r) => r.text.includes('32001'))).toBe(false);
  });

  it('answers bad input for a trace of a dump without dst, an unknown chain and a bad dump', async () => {
    const engine = createEngineService();
    const { dumpId } = value(await engine.inspect({ text: NODE1 }, call()));
    const noDst = await engine.trace(
      { source: { dumpId }, src: '198.18.100.13', dport: 30001, protocol: 'tcp' },
      call(),
    );
    expect(!noDst.ok && noDst.error).toEqual({
      code: 'bad-input',
      message: 'trace: dst: the node address is required for a dump',
    });
    const chain = await engine.chainRules({ source: { dumpId }, chain: 'KUBE-NOPE', family: 'ipv4' }, call());
    expect(!chain.ok && chain.error).toEqual({
      code: 'bad-input',
      message: 'chain KUBE-NOPE: not in the nat table',
    });
    const bad = await engine.inspect({ text: '*nat\n-A PREROUTING -j\nCOMMIT\n' }, call());
    expect(!bad.ok && bad.error.code).toBe('bad-input');
    expect(!bad.ok && bad.error.message).not.toContain('\n');
  });

  it('answers bad input for an unknown dumpId', async () => {
    const engine = createEngineService();
    const trace = await engine.trace(
      {
        source: { dumpId: 'no-such-dump' },
        src: '198.18.100.13',
        dst: '198.18.0.11',
        dport: 30001,
        protocol: 'tcp',
      },
      call(),
    );
    expect(!trace.ok && trace.error).toEqual({
      code: 'bad-input',
      message: 'trace: dump no-such-dump is no longer loaded; load it again',
    });
    const chain = await engine.chainRules(
      { source: { dumpId: 'no-such-dump' }, chain: 'KUBE-NODEPORTS', family: 'ipv4' },
      call(),
    );
    expect(!chain.ok && chain.error.code).toBe('bad-input');
    expect(!chain.ok && chain.error.message).toMatch(/no-such-dump is no longer loaded/);
  });

  it('names the family of the dump a chain listing comes from', async () => {
    const engine = createEngineService();
    const v4 = value(await engine.inspect({ text: NODE1 }, call()));
    const v6 = value(await engine.inspect({ text: NODE1_V6 }, call()));
    const rules = async (dumpId: string) =>
      value(await engine.chainRules({ source: { dumpId }, chain: 'KUBE-NODEPORTS', family: 'ipv4' }, call()));
    expect((await rules(v4.dumpId)).family).toBe('ipv4');
    const six = await rules(v6.dumpId);
    expect(six.family).toBe('ipv6');
    expect(six.rules.length).toBeGreaterThan(0);
  });

  it('keeps only the 4 newest dumps', () => {
    const store = new DumpStore();
    const ids = Array.from(
      { length: 5 },
      (_, i) => value(store.inspect({ text: i % 2 ? NODE1_V6 : NODE1 })).dumpId,
    );
    expect(new Set(ids).size).toBe(5);
    const first = store.chainRules(ids[0]!, 'KUBE-NODEPORTS');
    expect(!first.ok && first.error.message).toMatch(/is no longer loaded/);
    for (const id of ids.slice(1)) expect(store.chainRules(id, 'KUBE-NODEPORTS').ok).toBe(true);
  });
});
