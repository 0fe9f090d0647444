import { describe, expect, it } from 'vitest';
import type { NodeChange } from '../node-change';
import { confirmQuestion, planTextLines } from '../plan-text';
import type { NodeOutcome } from '../run-changes';
import { outcomeJson, outcomeLine } from './change-format';

const change = (families: ('ipv4' | 'ipv6')[]) =>
  ({ restores: families.map((family) => ({ family, text: '' })) }) as unknown as NodeChange;

describe('confirmQuestion', () => {
  it('one node, both families, no timer', () => {
    expect(confirmQuestion('apply', [change(['ipv4', 'ipv6'])], undefined)).toBe(
      'apply on 1 node (IPv4, IPv6)?',
    );
  });
});

describe('outcomeLine / outcomeJson', () => {
  it('says what state a failed node is in unless it kept the old guard', () => {
    const failed = (state: 'old' | 'mixed'): NodeOutcome => ({
      node: 'n1',
      status: 'failed',
      state,
      message: 'n1: restore failed',
    });
    expect(outcomeLine(failed('old'))).toBe('n1: restore failed');
    expect(outcomeLine(failed('mixed'))).toBe('n1: restore failed [state: mixed]');
    expect(outcomeJson(failed('mixed'))).toEqual({
      node: 'n1',
      status: 'failed',
      state: 'mixed',
      message: 'n1: restore failed',
    });
  });

  it("an applied node with a timer names the node clock's rollback time", () => {
    const o: NodeOutcome = { node: 'n1', status: 'applied', timer: 'systemd 1700000000' };
    expect(outcomeLine(o)).toBe(
      'n1: changed and verified (not verified); rolls back at 2023-11-14T22:13:20.000Z (node clock) unless confirmed',
    );
    expect(outcomeJson(o)).toEqual({ node: 'n1', status: 'applied', timer: 'systemd 1700000000' });
  });
});

describe('planTextLines', () => {
  it('plans, then nodes left alone, then nodes not planned', () => {
    expect(
      planTextLines({
        changes: [],
        snapshots: [],
        untouched: [{ node: 'n2', message: 'n2: left' }],
        unplanned: [{ node: 'n3', status: 'unreachable', message: 'n3: down' }],
      }),
    ).toEqual(['n2: left', 'n3: down']);
  });
});
