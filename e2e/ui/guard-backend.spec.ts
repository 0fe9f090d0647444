// The guard backend switch in the window, against the real lab (iptables or ipvs mode): beside the
// plan, "nft table" moves every node's guard from NPG- chains into our own nft table in one apply,
// the plan saying so first; real packets prove the guard held; and "iptables chains" moves it back.
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { E2E_TOKEN } from '../../playwright.config';
import { currentLab, nodeIptables, nodeNft, probeLab } from '../lab/lab';
import { readState } from '../lab/state';
import { cleanUpWorkspace, labWorkspaceCopy, WorkspacePage } from './workspace-page';

const mode = (await readState())?.options.mode;

test('switching the guard to our nft table and back, from the plan tab, proven by packets', async ({
  page,
}, info) => {
  test.skip(mode === 'nftables', 'in nftables mode the nft table is the only guard');
  test.setTimeout(240_000);
  const lab = await currentLab();
  const ws = labWorkspaceCopy(false);
  writeFileSync(
    ws.path,
    readFileSync(ws.path, 'utf8').replace(
      'policy: { nodePorts: [] }',
      'policy: { nodePorts: [{ port: 30001, protocol: tcp, allow: [{ cidr: 198.18.100.10/32 }] }] }',
    ),
  );
  const app = new WorkspacePage(page);
  const shot = (name: string) => page.screenshot({ path: info.outputPath(`${name}.png`) });
  const ourTable = (node: string) =>
    nodeNft(lab.nodes.find((n) => n.name === node)!, ['list', 'table', 'inet', 'nodeport-guard']).catch(
      () => '',
    );
  const names = lab.nodes.map((n) => n.name).join(', ');
  const ourChains = async (node: string) =>
    (await nodeIptables(lab.nodes.find((n) => n.name === node)!, ['-t', 'nat', '-S']))
      .split('\n')
      .filter((l) => l.includes('NPG-'));
  /** Plan (unless planned already), apply, and confirm inside the countdown. */
  const applyAndConfirm = async (plan = true) => {
    if (plan) await page.getByRole('button', { name: /^Plan/ }).click();
    await expect(page.getByTestId('apply')).toBeEnabled({ timeout: 30_000 });
    await page.getByTestId('apply').click();
    await expect(page.getByTestId('countdown')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('confirm').click();
    await expect(page.getByTestId('countdown')).toHaveCount(0, { timeout: 30_000 });
    // Confirmed: no row still says a change waits for it.
    for (const n of lab.nodes) await expect(app.node(n.name)).not.toContainText('confirm pending');
  };
  try {
    await app.start(E2E_TOKEN);
    await app.openWorkspace(ws.path);
    await app.trustHostKeys(lab.nodes.length);
    for (const n of lab.nodes) await expect(app.node(n.name)).toContainText('ok', { timeout: 30_000 });
    await app.drawerTab('Plan · Apply').click();

    const guard = page.getByRole('group', { name: 'Guard on iptables and ipvs nodes' });
    await expect(guard.getByRole('radio', { name: 'iptables chains' })).toBeChecked();
    // First the default guard, NPG- chains, as a node guarded for a while would have.
    await applyAndConfirm();
    for (const n of lab.nodes) expect(await ourChains(n.name), n.name).toContain('-N NPG-TCP-30001');
    // Saved to the workspace first, then shown checked (the radio follows the saved file).
    await guard.getByRole('radio', { name: 'nft table' }).click();
    await expect(guard.getByRole('radio', { name: 'nft table' })).toBeChecked();
    await expect(guard.getByRole('status')).toContainText('guard backend nft: the next apply');
    await page.getByRole('button', { name: /^Plan/ }).click();
    await expect(page.getByTestId('plan')).toContainText(
      `switching to nft: table inet nodeport-guard is written first, then the NPG- chains go: ${names}`,
      { timeout: 30_000 },
    );
    await shot('10-guard-backend-plan');
    await applyAndConfirm(false);
    for (const n of lab.nodes) {
      expect(await ourChains(n.name), n.name).toEqual([]);
      expect(await ourTable(n.name), n.name).toContain('priority dstnat - 10');
      expect((await probeLab({ from: '198.18.100.10', node: n.name, port: 30001 })).outcome).toBe('reached');
      expect((await probeLab({ from: '198.18.100.13', node: n.name, port: 30001 })).outcome).toBe('refused');
    }

    // And back: the chains first, then our table goes.
    await guard.getByRole('radio', { name: 'iptables chains' }).click();
    await expect(guard.getByRole('radio', { name: 'iptables chains' })).toBeChecked();
    await page.getByRole('button', { name: /^Plan/ }).click();
    await expect(page.getByTestId('plan')).toContainText(
      `switching to iptables: the NPG- chains are written first, then table inet nodeport-guard goes: ${names}`,
      { timeout: 30_000 },
    );
    await applyAndConfirm(false);
    for (const n of lab.nodes) {
      expect(await ourChains(n.name), n.name).toContain('-N NPG-TCP-30001');
      expect(await ourTable(n.name), n.name).toBe('');
      expect((await probeLab({ from: '198.18.100.13', node: n.name, port: 30001 })).outcome).toBe('refused');
    }
  } finally {
    cleanUpWorkspace(ws);
  }
});
