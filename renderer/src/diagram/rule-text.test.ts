// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { jumpTarget, sameRule } from './rule-text';

describe('rule helpers', () => {
  it('reads jump targets and compares rules loosely', () => {
    expect(jumpTarget('-A X -p tcp -j KUBE-SVC-AB')).toBe('KUBE-SVC-AB');
    expect(jumpTarget('-A X -g CALI-PRE')).toBe('CALI-PRE');
    expect(jumpTarget('-A X -p tcp')).toBeUndefined();
    expect(sameRule('[1:60] -A X  -j ACCEPT', '-A X -j ACCEPT')).toBe(true);
    expect(sameRule('-A X -j ACCEPT', '-A X -j DROP')).toBe(false);
  });
});
