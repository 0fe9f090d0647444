// The policy's refusals, one shape at a time. That every command the engine builds is admitted is
// tested from the builders themselves in electron/engine/commands-admitted.test.ts.
import { describe, expect, it } from 'vitest';
import { checkArgv, MAX_COMMAND_CHARS, shippedScript } from './command-policy';

const restoreScript = shippedScript('exec iptables-restore -w --noflush < "$1"', {
  name: 'npg-test',
  args: [/apply|remove/],
  rest: { pattern: /NPG-[A-Z]+/, max: 2 },
});
const bare = shippedScript('echo bare', { name: /npg-bare-(a|b)/ });

const refused = (reason?: RegExp) =>
  reason ? { ok: false, reason: expect.stringMatching(reason) } : { ok: false };

describe('checkArgv', () => {
  it('admits the shapes the engine sends', () => {
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'apply'])).toEqual({ ok: true });
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'remove', 'NPG-A', 'NPG-B'])).toEqual({
      ok: true,
    });
    expect(checkArgv(['sh', '-c', bare, 'npg-bare-b'])).toEqual({ ok: true });
    expect(checkArgv(['conntrack', '-L', '-f', 'ipv4', '-p', 'tcp', '--orig-port-dst', '30001'])).toEqual({
      ok: true,
    });
    expect(
      checkArgv([
        'conntrack',
        '-D',
        '-f',
        'ipv6',
        '-p',
        'udp',
        '--orig-port-dst',
        '65535',
        '-s',
        '2001:2::7',
      ]),
    ).toEqual({ ok: true });
    expect(checkArgv(['id', '-u'])).toEqual({ ok: true });
    expect(checkArgv(['true'])).toEqual({ ok: true });
  });

  it('refuses unknown commands, sudo, empty argv, NUL and non-strings', () => {
    expect(checkArgv(['rm', '-rf', '/'])).toEqual({ ok: false, reason: 'command not allowed: "rm"' });
    expect(checkArgv(['sudo', 'true'])).toMatchObject(refused(/added by the fleet/));
    expect(checkArgv([])).toMatchObject(refused());
    expect(checkArgv(['true', 'a\0b'])).toMatchObject(refused(/NUL/));
    expect(checkArgv(['id', 5])).toMatchObject(refused(/not a string/));
    expect(checkArgv(['/usr/bin/id', '-u'])).toMatchObject(refused(/not allowed/));
  });

  it('refuses the binaries our scripts run inside, whatever their arguments', () => {
    // Each of these ran (or could run) a program or touch a file of the caller's choosing.
    expect(checkArgv(['ip', 'netns', 'exec', 'x', 'sh', '-c', 'id'])).toMatchObject(refused(/"ip"/));
    expect(checkArgv(['iptables', '--modprobe=/tmp/evil', '-t', 'nat', '-S'])).toMatchObject(
      refused(/"iptables"/),
    );
    expect(checkArgv(['systemd-run', '--setenv=LD_PRELOAD=/tmp/x.so', 'true'])).toMatchObject(
      refused(/"systemd-run"/),
    );
    expect(checkArgv(['mv', '/etc/shadow', '/tmp/x'])).toMatchObject(refused(/"mv"/));
    expect(checkArgv(['flock', '/var/lib/nodeport-guard/lock', 'true'])).toMatchObject(refused(/"flock"/));
    expect(checkArgv(['cat', '/var/lib/nodeport-guard/../../../etc/shadow'])).toMatchObject(refused(/"cat"/));
    expect(checkArgv(['mkdir', '-p', '/var/lib/nodeport-guard'])).toMatchObject(refused(/"mkdir"/));
    expect(checkArgv(['iptables-restore', '-w', '--noflush', '-M', '/tmp/evil'])).toMatchObject(refused());
    expect(checkArgv(['iptables-save', '-t', 'nat'])).toMatchObject(refused());
    expect(checkArgv(['ipset', 'list'])).toMatchObject(refused());
    expect(checkArgv(['ss', '-Hltn'])).toMatchObject(refused());
    expect(checkArgv(['test', '-e', '/etc/shadow'])).toMatchObject(refused());
  });

  it('refuses command text too long for one packet', () => {
    expect(checkArgv(['true', 'x'.repeat(MAX_COMMAND_CHARS)])).toMatchObject(refused(/stdin/));
  });

  it('id and true: exactly `id -u` and `true`, no extra argument', () => {
    expect(checkArgv(['id'])).toMatchObject(refused(/`id -u`/));
    expect(checkArgv(['id', '-un'])).toMatchObject(refused());
    expect(checkArgv(['id', '-u', 'root'])).toMatchObject(refused());
    expect(checkArgv(['true', '--version'])).toMatchObject(refused(/`true`/));
  });

  it('conntrack: a NodePort listing or one source deleted, nothing else', () => {
    const list = ['conntrack', '-L', '-f', 'ipv4', '-p', 'tcp', '--orig-port-dst', '30001'];
    // Deleting without -s would drop every flow to the port, allowed sources too.
    expect(
      checkArgv(['conntrack', '-D', '-f', 'ipv4', '-p', 'tcp', '--orig-port-dst', '30001']),
    ).toMatchObject(refused(/runs only as/));
    expect(checkArgv(['conntrack', '-F'])).toMatchObject(refused(/runs only as/));
    expect(checkArgv(['conntrack', '-D'])).toMatchObject(refused());
    expect(checkArgv(['conntrack', '-L'])).toMatchObject(refused());
    expect(checkArgv([...list, '-o', 'xml'])).toMatchObject(refused(/runs only as/));
    expect(
      checkArgv(['conntrack', '-L', '-p', 'tcp', '-f', 'ipv4', '--orig-port-dst', '30001']),
    ).toMatchObject(refused());
    expect(checkArgv(['conntrack', '-L', '-f', 'ipv4', '-p', 'icmp', '--orig-port-dst', '1'])).toMatchObject(
      refused(/tcp, udp or sctp/),
    );
    expect(checkArgv(['conntrack', '-L', '-f', 'bridge', '-p', 'tcp', '--orig-port-dst', '1'])).toMatchObject(
      refused(/ipv4 or ipv6/),
    );
    for (const port of ['0', '65536', '030001', '30001 ', '--mark', '1e3', ''])
      expect(
        checkArgv(['conntrack', '-L', '-f', 'ipv4', '-p', 'tcp', '--orig-port-dst', port]),
      ).toMatchObject(refused(/not a port/));
    const del = (family: string, source: string) =>
      checkArgv(['conntrack', '-D', '-f', family, '-p', 'tcp', '--orig-port-dst', '30001', '-s', source]);
    expect(del('ipv4', '198.18.0.9')).toEqual({ ok: true });
    for (const source of ['198.18.0.0/24', '--dst', 'node1', '198.18.0.256', '2001:2::1', 'fe80::1%eth0', ''])
      expect(del('ipv4', source)).toMatchObject(refused(/not an IPv4 address/));
    expect(del('ipv6', '198.18.0.9')).toMatchObject(refused(/not an IPv6 address/));
    expect(
      checkArgv([
        'conntrack',
        '-D',
        '-f',
        'ipv4',
        '-p',
        'tcp',
        '--orig-port-dst',
        '30001',
        '-d',
        '198.18.0.9',
      ]),
    ).toMatchObject(refused(/runs only as/));
  });

  it('sh: only `sh -c SHIPPED NAME ARG...`, each argument of the shape it was registered with', () => {
    expect(checkArgv(['sh', '-c', 'rm -rf /', 'npg-test', 'apply'])).toMatchObject(refused(/ship/));
    expect(checkArgv(['sh', '-s'])).toMatchObject(refused(/sh -c SCRIPT/));
    expect(checkArgv(['sh', '/tmp/evil.sh'])).toMatchObject(refused(/sh -c SCRIPT/));
    // Options before -c would change how the shipped text runs (-x traces, -i reads rc files).
    expect(checkArgv(['sh', '-x', '-c', restoreScript, 'npg-test', 'apply'])).toMatchObject(refused());
    expect(checkArgv(['sh', '-e', '-c', restoreScript, 'npg-test', 'apply'])).toMatchObject(refused());
    expect(checkArgv(['sh', '-c', restoreScript])).toMatchObject(refused(/script name ""/));
    expect(checkArgv(['sh', '-c', restoreScript, 'evil', 'apply'])).toMatchObject(
      refused(/script name "evil"/),
    );
    expect(checkArgv(['sh', '-c', bare, 'npg-bare-c'])).toMatchObject(refused(/script name/));
    expect(checkArgv(['sh', '-c', bare, 'xnpg-bare-a'])).toMatchObject(refused(/script name/));
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test'])).toMatchObject(refused(/argument 1 missing/));
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'rollback'])).toMatchObject(
      refused(/argument 1/),
    );
    // Patterns match whole arguments: no prefix, suffix, or a line after a matching one.
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'apply;id'])).toMatchObject(
      refused(/argument 1/),
    );
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'apply\nid'])).toMatchObject(
      refused(/argument 1/),
    );
    expect(checkArgv(['sh', '-c', restoreScript, 'npg-test', 'apply', 'NPG-A/../x'])).toMatchObject(
      refused(/argument 2/),
    );
    expect(
      checkArgv(['sh', '-c', restoreScript, 'npg-test', 'apply', 'NPG-A', 'NPG-B', 'NPG-C']),
    ).toMatchObject(refused(/at most 3/));
    expect(checkArgv(['sh', '-c', bare, 'npg-bare-a', 'extra'])).toMatchObject(refused(/at most 0/));
  });

  it('one text, one shape: registering a script again with other arguments throws', () => {
    expect(() => shippedScript('echo bare', { name: /npg-bare-(a|b)/ })).not.toThrow();
    expect(() => shippedScript('echo bare', { name: /.*/ })).toThrow(/registered twice/);
  });
});
