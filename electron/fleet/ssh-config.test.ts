import { describe, expect, it } from 'vitest';
import {
  concreteHostNames,
  lookupSshHost,
  parseProxyJump,
  parseSshConfig,
  type SshConfigFile,
} from './ssh-config';

function parse(text: string): SshConfigFile {
  const r = parseSshConfig(text);
  if (!r.ok) throw new Error(r.message);
  return r.config;
}

const config = parse(`
# global settings apply to every host
IdentityFile ~/.ssh/global
Host web* !web3 "db 1"
  HostName %h.example.org
  User = alice
  Port 2222
  IdentityFile ~/.ssh/a
  ProxyJump bast1,bob@bast2:2200
Match host web1 exec "touch /tmp/should-never-exist"
  User mallory
Host *
  User star
  Port 22
  IdentityFile ~/.ssh/star
`);

describe('ssh config lookup', () => {
  it('applies the first value per keyword and accumulates IdentityFile', () => {
    expect(lookupSshHost(config, 'web1')).toEqual({
      ok: true,
      host: {
        hostName: '%h.example.org',
        user: 'alice',
        port: 2222,
        identityFiles: ['~/.ssh/global', '~/.ssh/a', '~/.ssh/star'],
        proxyJump: 'bast1,bob@bast2:2200',
      },
    });
  });

  it('honours negated patterns and quoted names, and never evaluates Match', () => {
    expect(lookupSshHost(config, 'web3')).toMatchObject({ ok: true, host: { user: 'star', port: 22 } });
    expect(lookupSshHost(config, 'db 1')).toMatchObject({ ok: true, host: { user: 'alice' } });
    expect(config.warnings).toEqual(['ssh config: Match blocks are not evaluated']);
  });

  it('reports a bad port and a config the parser cannot read', () => {
    expect(lookupSshHost(parse('Port 99999\n'), 'x')).toMatchObject({ ok: false, message: /bad Port/ });
    expect(parseSshConfig('Host "unterminated\n')).toMatchObject({ ok: false });
  });
});

describe('ProxyJump values', () => {
  it('parses user, host, port, IPv6 and ssh:// forms', () => {
    expect(parseProxyJump('bast1,bob@bast2:2200,[2001:2::1]:22,ssh://eve@b3:23')).toEqual({
      ok: true,
      jumps: [
        { host: 'bast1' },
        { host: 'bast2', user: 'bob', port: 2200 },
        { host: '2001:2::1', port: 22 },
        { host: 'b3', user: 'eve', port: 23 },
      ],
    });
    expect(parseProxyJump('none')).toEqual({ ok: true, jumps: [] });
    expect(parseProxyJump('a b')).toMatchObject({ ok: false });
    expect(parseProxyJump('a:0')).toMatchObject({ ok: false });
  });
});

describe('hosts to import', () => {
  it('lists concrete Host names once, never patterns or negations', () => {
    const r = parseSshConfig(
      'Host node1 node2\n  HostName 198.18.0.11\nHost *.prod !bad web-?\n  User x\nHost node1\n  Port 2222\n',
    );
    if (!r.ok) throw new Error(r.message);
    expect(concreteHostNames(r.config)).toEqual(['node1', 'node2']);
  });
});
