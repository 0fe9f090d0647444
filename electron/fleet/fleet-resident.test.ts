// Resident programs (resident-channel.ts, Fleet.ask) against real processes behind the in-process
// SSH server: a small line-answering shell program started once and asked many times, answers in
// order, timeouts and cancellation that retire it, a program that cannot start, and the end of the
// connection ending it.
import { describe, expect, it } from 'vitest';
import { shippedScript } from './command-policy';
import { shServerSuite } from './test-support/sh-server-suite';
import type { ResidentProgram } from './types';

// Answers each line with `got LINE`, `slow` after a second, and `end NONCE` with `END NONCE`.
const echoer = shippedScript(
  `while IFS= read -r l; do
  case $l in
    end\\ *) echo "END \${l#end }" ;;
    slow) sleep 1; echo "got slow" ;;
    big) i=0; while [ $i -lt 20000 ]; do echo "line $i of a long answer"; i=$((i+1)); done ;;
    *) echo "got $l" ;;
  esac
done`,
  { name: 'npg-echoer' },
);
const broken = shippedScript(`echo 'echoer: cannot start' >&2; exit 9`, { name: 'npg-echoer' });

function program(script: string, name = 'echoer'): ResidentProgram {
  return {
    name,
    argv: ['sh', '-c', script, 'npg-echoer'],
    endRequest: (nonce) => `end ${nonce}\n`,
    answerLength: (output, nonce, newFrom) => {
      const end = `END ${nonce}\n`;
      const at = output.indexOf(end, Math.max(0, newFrom - end.length));
      return at < 0 ? undefined : at;
    },
  };
}

const { server, fleet } = shServerSuite({ live: (command) => command.includes('npg-echoer') });

describe('resident programs', () => {
  it('starts once and answers every ask in order, concurrent asks included', async () => {
    const f = fleet();
    const before = server().stats.lives;
    const p = program(echoer);
    expect(await f.ask('n1', { program: p, input: 'a\nb\n' })).toMatchObject({
      ok: true,
      stdout: 'got a\ngot b\n',
      op: 'echoer',
    });
    const [x, y, z] = await Promise.all([
      f.ask('n1', { program: p, input: 'slow\n' }),
      f.ask('n1', { program: p, input: 'x\n' }),
      f.ask('n1', { program: p, input: '' }),
    ]);
    expect([x, y, z].map((r) => (r.ok ? r.stdout : r.error.message))).toEqual(['got slow\n', 'got x\n', '']);
    expect(server().stats.lives - before).toBe(1);
  });

  it('a long answer in many chunks arrives whole, and the answer after it is its own', async () => {
    const f = fleet();
    const p = program(echoer);
    const big = await f.ask('n1', { program: p, input: 'big\n' });
    expect(big.ok).toBe(true);
    if (!big.ok) return;
    const lines = big.stdout.split('\n');
    expect(lines).toHaveLength(20_001);
    expect(lines[0]).toBe('line 0 of a long answer');
    expect(lines[19_999]).toBe('line 19999 of a long answer');
    expect(await f.ask('n1', { program: p, input: 'after\n' })).toMatchObject({
      ok: true,
      stdout: 'got after\n',
    });
  });

  it('a timeout or a cancel retires the program; the next ask starts a new one', async () => {
    const f = fleet();
    const before = server().stats.lives;
    const p = program(echoer);
    const slow = await f.ask('n1', { program: p, input: 'slow\n', timeoutMs: 200 });
    expect(slow.ok).toBe(false);
    if (!slow.ok) expect(slow.error.kind).toBe('timeout');
    // The late `got slow` must not be taken for this answer.
    expect(await f.ask('n1', { program: p, input: 'after\n' })).toMatchObject({
      ok: true,
      stdout: 'got after\n',
    });
    const ac = new AbortController();
    const pending = f.ask('n1', { program: p, input: 'slow\n' }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const cancelled = await pending;
    expect(cancelled.ok).toBe(false);
    if (!cancelled.ok) expect(cancelled.error.kind).toBe('cancelled');
    expect(await f.ask('n1', { program: p, input: 'again\n' })).toMatchObject({
      ok: true,
      stdout: 'got again\n',
    });
    expect(server().stats.lives - before).toBe(3);
  });

  it('a program that cannot start fails with its status and message, and is tried again next time', async () => {
    const f = fleet();
    const before = server().stats.lives;
    const p = program(broken, 'broken');
    for (let i = 0; i < 2; i++) {
      const r = await f.ask('n1', { program: p, input: 'a\n' });
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatchObject({ kind: 'exit-code', code: 9 });
        expect(r.error.message).toContain('echoer: cannot start');
      }
    }
    expect(server().stats.lives - before).toBe(2);
  });

  it('ends with the connection: a dropped session starts a new program', async () => {
    const f = fleet();
    const before = server().stats.lives;
    const p = program(echoer);
    expect(await f.ask('n1', { program: p, input: 'one\n' })).toMatchObject({ ok: true });
    f.disconnect('n1');
    expect(await f.ask('n1', { program: p, input: 'two\n' })).toMatchObject({
      ok: true,
      stdout: 'got two\n',
    });
    expect(server().stats.lives - before).toBe(2);
  });

  it('checks the program like any command: an unshipped script is refused before anything is sent', async () => {
    const f = fleet();
    const r = await f.ask('n1', {
      program: { ...program(echoer), argv: ['sh', '-c', 'rm -rf /tmp/x', 'npg-echoer'] },
      input: 'a\n',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe('invalid-request');
  });
});
