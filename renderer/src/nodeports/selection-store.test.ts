import { describe, expect, it } from 'vitest';
import { parseKey } from './selection-store';

describe('parseKey', () => {
  it('reads protocol/port keys and refuses anything else', () => {
    expect(parseKey('tcp/30001')).toEqual({ protocol: 'tcp', port: 30001 });
    expect(parseKey('udp/53')).toEqual({ protocol: 'udp', port: 53 });
    expect(parseKey('icmp/1')).toBeUndefined();
    expect(parseKey('tcp/')).toBeUndefined();
  });
});
