import { describe, expect, it } from 'vitest';
import type { NodePortView } from '../../../shared/api';
import { filterNodePorts } from './filter';

const np = (port: number, service: string, eps: string[]): NodePortView => ({
  port,
  protocol: 'tcp',
  service,
  endpoints: eps.map((address) => ({ address, probability: 1 / eps.length })),
  path: [],
  noEndpoints: eps.length === 0,
  localOnly: false,
  guarded: false,
  notes: [],
});

describe('filterNodePorts', () => {
  const list = [np(30001, 'default/web:http', ['198.19.1.10:8080']), np(30053, 'kube-system/dns:udp', [])];
  it('matches port, service and endpoint terms, all of them', () => {
    expect(filterNodePorts(list, '30001').map((n) => n.port)).toEqual([30001]);
    expect(filterNodePorts(list, 'DNS').map((n) => n.port)).toEqual([30053]);
    expect(filterNodePorts(list, '198.19.1.10').map((n) => n.port)).toEqual([30001]);
    expect(filterNodePorts(list, 'web 30053')).toEqual([]);
  });
  it('an empty query shows everything', () => {
    expect(filterNodePorts(list, '  ')).toBe(list);
  });
});
