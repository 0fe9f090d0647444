import { describe, expect, it } from 'vitest';
import { confirmExitCode, confirmLine } from './confirm-change';

describe('confirm decisions', () => {
  it('0 when every node confirmed or had nothing, 1 too late or another change, 2 unreachable', () => {
    expect(
      confirmExitCode([
        { node: 'a', status: 'confirmed', token: 't' },
        { node: 'b', status: 'none', message: 'b: nothing pending' },
      ]),
    ).toBe(0);
    expect(confirmExitCode([{ node: 'a', status: 'expired', token: 't', message: 'a: too late' }])).toBe(1);
    expect(
      confirmExitCode([
        { node: 'a', status: 'other', token: 'u', message: 'a: other' },
        { node: 'b', status: 'failed', message: 'b: down' },
      ]),
    ).toBe(2);
    expect(confirmLine({ node: 'a', status: 'confirmed', token: 't1' })).toBe('a: confirmed (t1)');
    expect(confirmLine({ node: 'a', status: 'failed', message: 'a: connection refused' })).toBe(
      'a: connection refused',
    );
  });
});
