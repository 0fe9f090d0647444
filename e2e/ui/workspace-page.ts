// Page object for the cluster workspace: tests say what an on-call engineer does, not which selector.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Locator, type Page } from '@playwright/test';
import { paths } from '../lab/lab';

/**
 * A private copy of the lab's workspace with an empty known_hosts, so the UI meets every host key
 * for the first time (as an engineer with a new laptop would), and saved groups for the palette.
 */
export function labWorkspaceCopy(groups = true): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'npg-e2e-ws-'));
  copyFileSync(paths.labKey, join(dir, 'lab_ed25519'));
  writeFileSync(join(dir, 'known_hosts'), '');
  const path = join(dir, 'cluster.yaml');
  writeFileSync(
    path,
    [
      'version: 1',
      'inventory:',
      '  knownHosts: known_hosts',
      '  defaults: { user: root, port: 22, identityFile: lab_ed25519 }',
      '  nodes:',
      '    - { name: node1, host: 198.18.0.11 }',
      '    - { name: node2, host: 198.18.0.12 }',
      '    - { name: node3, host: 198.18.0.13 }',
      'policy: { nodePorts: [] }',
      ...(groups
        ? [
            'groups:',
            '  - name: office',
            '    entries: [{ cidr: 198.18.100.10/31, label: office }]',
            '  - name: vpn',
            '    entries: [{ cidr: 198.18.100.12/32, label: vpn }, { cidr: "2001:2::100:0/112", label: vpn6 }]',
          ]
        : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { dir, path };
}

/**
 * After a scenario: take any guard off the shared lab's nodes (a run that failed half-way must not
 * leave one for the next), then drop the workspace copy.
 */
export function cleanUpWorkspace(ws: { dir: string; path: string }) {
  try {
    execFileSync('node', ['dist/node/npg.mjs', 'remove', '--workspace', ws.path, '--yes', '--quiet'], {
      timeout: 60_000,
      stdio: 'ignore',
    });
  } catch {
    // nothing to remove, or the nodes were never trusted
  }
  rmSync(ws.dir, { recursive: true, force: true });
}

export class WorkspacePage {
  constructor(readonly page: Page) {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`[browser ${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  }

  async start(token: string) {
    await this.page.goto(`/?token=${token}`);
    await expect(this.page.getByRole('heading', { name: 'NodePort Guard' })).toBeVisible();
  }

  async openWorkspace(path: string) {
    await this.page.getByTestId('workspace-path').fill(path);
    await this.page.getByRole('button', { name: 'Open', exact: true }).click();
  }

  hostKeyPrompts(): Locator {
    return this.page.getByTestId('host-key-prompt');
  }

  /** Answers every host-key question as it comes, until `count` were answered. */
  async trustHostKeys(count: number, how: 'Trust always' | 'Trust once' = 'Trust always') {
    for (let i = 0; i < count; i++) {
      const prompt = this.hostKeyPrompts().first();
      await expect(prompt).toContainText('SHA256:');
      await prompt.getByRole('button', { name: how }).click();
    }
  }

  node(name: string): Locator {
    return this.page.getByTestId(`node-${name}`);
  }

  nodePort(key: string): Locator {
    return this.page.getByTestId(`nodeport-${key}`);
  }

  async findNodePort(text: string, key: string) {
    await this.page.getByTestId('nodeport-filter').fill(text);
    await this.nodePort(key).click();
  }

  async trace(src: string) {
    const box = this.page.getByRole('region', { name: 'Trace a packet' });
    await box.getByLabel('Source address').fill(src);
    await box.getByRole('button', { name: 'Trace', exact: true }).click();
    return this.page.getByTestId('trace-outcomes');
  }

  allowChips(): Locator {
    return this.page.getByTestId('allow-chip');
  }

  paletteChip(cidr: string): Locator {
    return this.page.locator(`[data-testid="palette-chip"][data-cidr="${cidr}"]`).first();
  }

  /** A pointer drag, in small steps as a hand would (dnd-kit needs movement to start a drag). */
  async dragToAllowList(chip: Locator) {
    const zone = this.page.getByTestId('allow-zone');
    const from = await chip.boundingBox();
    const to = await zone.boundingBox();
    if (!from || !to) throw new Error('chip or allow-list not visible');
    const m = this.page.mouse;
    await m.move(from.x + from.width / 2, from.y + from.height / 2);
    await m.down();
    await m.move(from.x + from.width / 2 + 12, from.y + from.height / 2 + 4, { steps: 4 });
    await m.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
    await m.up();
  }

  /** The live counters above the diagram: the pause toggle, the interval, what moved. */
  liveCounters() {
    const bar = this.page.getByRole('group', { name: 'Live counters' });
    return {
      bar,
      toggle: bar.getByRole('button', { name: /^Live counters/ }),
      interval: bar.getByRole('combobox', { name: 'Refresh the counters' }),
      status: this.page.getByTestId('live-status'),
      delta: this.page.getByTestId('live-delta'),
      error: this.page.getByTestId('live-error'),
    };
  }

  /** The history entries' plan toggles, newest first; `op` narrows to one kind of change. */
  historyPlanToggles(op: 'apply' | 'rollback' | 'remove') {
    return this.page
      .getByTestId('history')
      .getByRole('button', { name: new RegExp(`^Plan of the ${op} at `) });
  }

  drawerTab(name: 'Plan · Apply' | 'Verify' | 'Export' | 'History') {
    return this.page.getByRole('tab', { name });
  }
}
