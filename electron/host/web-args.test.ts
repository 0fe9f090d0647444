import { describe, expect, it } from 'vitest';
import { parseWebArgs } from './web-args.js';

describe('npg web arguments', () => {
  it('reads --port and --workspace, in either spelling', () => {
    expect(parseWebArgs([], '/cwd')).toEqual({ port: 0, workspacePath: undefined });
    expect(parseWebArgs(['--port', '4517'], '/cwd')).toEqual({ port: 4517, workspacePath: undefined });
    expect(parseWebArgs(['--port=0', '--workspace', 'c.yaml'], '/cwd')).toEqual({
      port: 0,
      workspacePath: '/cwd/c.yaml',
    });
    expect(parseWebArgs(['--workspace=/srv/c.yaml'], '/cwd').workspacePath).toBe('/srv/c.yaml');
  });

  it('refuses bad ports, missing values and unknown arguments in one line', () => {
    for (const [argv, why] of [
      [['--port', '70000'], /^--port 70000: not a port number/],
      [['--port', '-1'], /^--port -1: not a port number/],
      [['--port', '1e3'], /^--port 1e3: not a port number/],
      [['--port'], /^--port: needs a value/],
      [['--workspace'], /^--workspace: needs a value/],
      [['--workspace='], /^--workspace: needs a value/],
      [['--verbose'], /^--verbose: unknown argument \(usage: /],
      [['file.yaml'], /^file\.yaml: unknown argument/],
    ] as const) {
      expect(() => parseWebArgs(argv), argv.join(' ')).toThrow(why);
    }
  });
});
