import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing but Node; `lab` needs root and a running lab
// (`npm run lab:up`), because it drives real sshd, netfilter and TCP.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'shared/**/*.test.ts',
            'electron/**/*.test.ts',
            'renderer/**/*.test.{ts,tsx}',
            'bench/**/*.test.ts',
            'e2e/lab/**/*.unit.test.ts',
          ],
          exclude: ['**/*.lab.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'lab',
          include: ['e2e/lab/**/*.lab.test.ts', 'electron/**/*.lab.test.ts', 'shared/**/*.lab.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
