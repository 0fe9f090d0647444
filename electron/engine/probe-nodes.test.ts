// The network parts of the probes against real loopback sockets (no lab, no packets leave the
// machine): the TCP connect from here, the route source, and PROBE_SCRIPT run by the real /bin/sh.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProbeReport } from '../../shared/guard/probe';
import { checkArgv } from '../fleet/index';
import { routeSource, tcpProbe } from './probe-nodes';
import { PROBE_SCRIPT } from './probe-script';
import { parseScriptOutput } from './sections';

let server: Server;
let open = 0;
let closed = 0;

function listen(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.destroy());
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
    server = s;
  });
}

beforeAll(async () => {
  open = await listen();
  // A port that was just free: bind and close, nothing listens there now.
  const tmp = createServer();
  closed = await new Promise<number>((resolve) =>
    tmp.listen(0, '127.0.0.1', () => {
      const a = tmp.address();
      tmp.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    }),
  );
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function sh(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', PROBE_SCRIPT, 'npg-probe', ...args], { timeout: 20_000 }, (err, stdout) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout });
    });
  });
}

describe('tcpProbe and routeSource', () => {
  it('connected, refused', async () => {
    expect(await tcpProbe('127.0.0.1', 'ipv4', open, 2000)).toEqual({ kind: 'connected' });
    expect(await tcpProbe('127.0.0.1', 'ipv4', closed, 2000)).toEqual({ kind: 'refused' });
  });

  it('the route source of a loopback destination is loopback', async () => {
    expect(await routeSource('127.0.0.1', 'ipv4')).toBe('127.0.0.1');
  });
});

describe('PROBE_SCRIPT', () => {
  it('is a shipped script the fleet lets run', () => {
    expect(checkArgv(['sh', '-c', PROBE_SCRIPT, 'npg-probe', '2', '127.0.0.1', '80'])).toEqual({ ok: true });
  });

  it('probes in parallel and reports the tool, the source per destination and each outcome', async () => {
    const r = await sh(['2', '127.0.0.1', String(open), '127.0.0.1', String(closed)]);
    expect(r.code).toBe(0);
    const report = readProbeReport(parseScriptOutput(r.stdout).events);
    expect(['bash', 'nc']).toContain(report.tool);
    expect(report.sources.get('127.0.0.1')).toBe('127.0.0.1');
    expect(report.outcomes.get(`127.0.0.1 ${open}`)?.kind).toBe('connected');
    expect(report.outcomes.get(`127.0.0.1 ${closed}`)?.kind).toBe('refused');
  });

  it('refuses bad values before doing anything', async () => {
    for (const args of [
      ['0', '127.0.0.1', '80'],
      ['11', '127.0.0.1', '80'],
      ['2', '127.0.0.1'],
      ['2', '127.0.0.1;id', '80'],
      ['2', '-x', '80'],
      ['2', 'localhost', '80'],
      ['2', '127.0.0.1', '080'],
      ['2', '127.0.0.1', '65536'],
      ['2', '127.0.0.1', '8$0'],
      ['2', ...Array.from({ length: 33 }, () => ['127.0.0.1', '80']).flat()],
    ]) {
      const r = await sh(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toMatch(/^%%npg error bad-/);
      expect(r.stdout).not.toContain('%%npg probe');
    }
  });
});
