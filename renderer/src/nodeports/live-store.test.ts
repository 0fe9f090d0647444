import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiResult, NodePortCountersView, NodePortView } from '../../../shared/api';

const nodePortCounters = vi.fn<(...args: unknown[]) => Promise<ApiResult<NodePortCountersView>>>();
vi.mock('../api/client', () => ({ api: { nodePortCounters } }));

const { useLive } = await import('./live-store');
const { useSelection } = await import('./selection-store');
const { useNodes } = await import('../nodes/nodes-store');

const view = (packets: number): NodePortView => ({
  port: 30001,
  protocol: 'tcp',
  endpoints: [{ address: '198.19.1.10:8080', probability: 1, chain: 'KUBE-SEP-A', packets }],
  path: [
    {
      chain: 'KUBE-EXT-X',
      kind: 'ext',
      via: '-A KUBE-NODEPORTS -p tcp -m tcp --dport 30001 -j KUBE-EXT-X',
      packets,
    },
  ],
  noEndpoints: false,
  localOnly: false,
  guarded: false,
  foreign: [],
  masquerade: 'always',
  notes: [],
});

const signal = () => new AbortController().signal;

describe('useLive', () => {
  beforeEach(() => {
    useLive.getState().reset();
    useSelection.setState({ selected: 'tcp/30001', node: 'node1', detail: view(10) });
    useNodes.setState({
      cluster: { nodes: [], nodePorts: [], differing: [], readAt: '2026-11-27T10:00:00.000Z' },
    });
  });
  afterEach(() => {
    nodePortCounters.mockReset();
    useSelection.getState().reset();
  });

  it('shows fresh counters and what moved since the discover, then since the last read', async () => {
    nodePortCounters.mockResolvedValueOnce({
      ok: true,
      value: { view: view(16), readAt: '2026-11-27T10:00:05.000Z', failed: [] },
    });
    await useLive.getState().read(signal());
    expect(useSelection.getState().detail?.path[0]?.packets).toBe(16);
    expect(useLive.getState().delta).toMatchObject({ seconds: 5, entered: 6, toPods: 6 });
    nodePortCounters.mockResolvedValueOnce({
      ok: true,
      value: { view: view(17), readAt: '2026-11-27T10:00:07.000Z', failed: ['node3: connection refused'] },
    });
    await useLive.getState().read(signal());
    expect(useLive.getState().delta).toMatchObject({ seconds: 2, entered: 1 });
    expect(useLive.getState().partial).toEqual(['node3: connection refused']);
  });

  it('after the path changed (an apply, read again), compares with the discover, not the older read', async () => {
    nodePortCounters.mockResolvedValueOnce({
      ok: true,
      value: { view: view(16), readAt: '2026-11-27T10:00:05.000Z', failed: [] },
    });
    await useLive.getState().read(signal());
    // A guard applied and the nodes read again: a longer path, drawn from the new discover.
    const guarded = (packets: number): NodePortView => ({
      ...view(packets),
      path: [
        {
          chain: 'NPG-TCP-30001',
          kind: 'guard',
          via: '-A NPG-PREROUTING -p tcp -m tcp --dport 30001 -j NPG-TCP-30001',
          packets,
        },
        ...view(packets).path,
      ],
      guard: { chain: 'NPG-TCP-30001', allow: [], effective: true },
    });
    useNodes.setState({
      cluster: { nodes: [], nodePorts: [], differing: [], readAt: '2026-11-27T10:00:20.000Z' },
    });
    useSelection.setState({ detail: guarded(20) });
    nodePortCounters.mockResolvedValueOnce({
      ok: true,
      value: {
        view: { ...guarded(20), path: [{ ...guarded(22).path[0]! }, ...view(20).path] },
        readAt: '2026-11-27T10:00:25.000Z',
        failed: [],
      },
    });
    await useLive.getState().read(signal());
    expect(useLive.getState().delta).toMatchObject({ seconds: 5, entered: 2, blocked: 2, toPods: 0 });
  });

  it('a failed read keeps the last counters and says why', async () => {
    nodePortCounters.mockResolvedValueOnce({
      ok: false,
      error: { code: 'failed', message: 'counters not read: node1: connection refused' },
    });
    await useLive.getState().read(signal());
    expect(useSelection.getState().detail?.path[0]?.packets).toBe(10);
    expect(useLive.getState()).toMatchObject({
      busy: false,
      forKey: 'tcp/30001@node1',
      error: 'counters not read: node1: connection refused',
    });
  });

  it('drops an answer for a NodePort no longer selected', async () => {
    let answer: (r: ApiResult<NodePortCountersView>) => void = () => undefined;
    nodePortCounters.mockReturnValueOnce(new Promise((r) => (answer = r)));
    const pending = useLive.getState().read(signal());
    useSelection.setState({ selected: 'tcp/30002' });
    answer({ ok: true, value: { view: view(99), readAt: '2026-11-27T10:00:05.000Z', failed: [] } });
    await pending;
    expect(useSelection.getState().detail?.path[0]?.packets).toBe(10);
    expect(useLive.getState().readAt).toBeUndefined();
  });
});
