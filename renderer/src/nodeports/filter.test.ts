import { describe, expect, it } from 'vitest';
import { filterRows } from './filter';

const rows = [
  { port: 30001, protocol: 'tcp', service: 'default/web:http', eps: '10.244.1.5:8080' },
  { port: 30002, protocol: 'udp', service: 'kube-system/dns:dns', eps: '10.244.2.7:53' },
  { port: 31000, protocol: 'tcp', eps: '' },
];
const extra = (r: (typeof rows)[number]) => r.eps;

describe('filterRows', () => {
  it('matches port, protocol, service and extra text; every term must match', () => {
    expect(filterRows(rows, '', extra)).toBe(rows);
    expect(filterRows(rows, '30001', extra).map((r) => r.port)).toEqual([30001]);
    expect(filterRows(rows, 'udp', extra).map((r) => r.port)).toEqual([30002]);
    expect(filterRows(rows, 'WEB', extra).map((r) => r.port)).toEqual([30001]);
    expect(filterRows(rows, '10.244.2', extra).map((r) => r.port)).toEqual([30002]);
    expect(filterRows(rows, 'tcp web', extra).map((r) => r.port)).toEqual([30001]);
    expect(filterRows(rows, '30001/tcp', extra).map((r) => r.port)).toEqual([30001]);
    expect(filterRows(rows, 'nothing-like-this', extra)).toEqual([]);
  });
});
