// The 3 a.m. flow, end to end, as an on-call engineer does it, against the real lab: open the
// cluster's workspace, accept the host keys, find the NodePort, read its path, trace, build the
// allow-list (pointer and keyboard), plan, apply, confirm, verify; then real packets prove it,
// a kube-proxy restart turns a cell red and a re-apply heals it; roll back; export.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { E2E_TOKEN } from '../../playwright.config';
import { currentLab, fault, nodeIptables, probeLab, restartKubeProxy } from '../lab/lab';
import { cleanUpWorkspace, labWorkspaceCopy, WorkspacePage } from './workspace-page';

test.describe.configure({ mode: 'serial' });

const shot = async (
  page: import('@playwright/test').Page,
  info: import('@playwright/test').TestInfo,
  name: string,
) => page.screenshot({ path: info.outputPath(`${name}.png`) });

test('guard 30001 on every node: from the workspace to verified, proven by packets', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  const lab = await currentLab();
  const ws = labWorkspaceCopy();
  const app = new WorkspacePage(page);
  try {
    await app.start(E2E_TOKEN);
    await shot(page, info, '01-start');
    await app.openWorkspace(ws.path);

    // Unknown host keys ask once each, with the fingerprint; the rest of the window stays usable.
    await app.trustHostKeys(lab.nodes.length);
    for (const n of lab.nodes) await expect(app.node(n.name)).toContainText('ok', { timeout: 30_000 });
    // Each key trusted on first use is announced in its node's row, with its fingerprint.
    for (const n of lab.nodes) {
      await expect(app.node(n.name).getByTestId('host-key-accepted')).toContainText(
        /^key added: ssh-ed25519 SHA256:\S+$/,
      );
    }
    await expect(page.getByTestId('summary')).toContainText(
      `${lab.nodes.length} nodes: ${lab.nodes.length} ok`,
    );

    // Some traffic first, so the palette has sources seen now.
    await probeLab({ from: '198.18.100.13', node: 'node1', port: 30001 });

    await app.findNodePort('30001', 'tcp/30001');
    const diagram = page.getByRole('region', { name: /Packet path 30001\/tcp/ });
    for (const chain of ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS'])
      await expect(diagram).toContainText(chain);
    await shot(page, info, '02-diagram');
    await page.getByRole('button', { name: 'Show as text' }).click();
    const path = page.getByLabel('Packet path for 30001/tcp');
    for (const chain of ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS'])
      await expect(path).toContainText(chain);
    // Its endpoints are the lab's pods for web:http, each with its share.
    const web = lab.services('ipv4').find((s) => s.nodePort === 30001);
    expect(web, 'the lab serves 30001').toBeTruthy();
    await expect(path.locator('.endpoint')).toHaveCount(web!.endpoints.length);
    // Every node's counters added up, on the first node's path.
    await page.getByRole('button', { name: 'all nodes (sum)' }).click();
    await expect(page.getByLabel('Packet path for 30001/tcp')).toContainText('counters summed over 3 nodes');
    await page.getByRole('button', { name: 'node1', exact: true }).click();
    await expect(page.getByLabel('Packet path for 30001/tcp')).not.toContainText('counters summed');
    await page.getByRole('button', { name: 'Show the diagram' }).click();

    // Live counters: node1's nat table is read again on a timer; real packets show up as a change.
    const live = app.liveCounters();
    await expect(live.toggle).toHaveAttribute('aria-pressed', 'true');
    await live.interval.selectOption({ label: 'every 2 s' });
    await expect(live.status).toContainText(/read \d/, { timeout: 15_000 });
    await expect(live.delta).toBeVisible({ timeout: 15_000 });
    for (let i = 0; i < 3; i++) await probeLab({ from: '198.18.100.13', node: 'node1', port: 30001 });
    await expect(live.delta).toContainText(/\+[1-9][\d,]* pkts?\/\d+ s to the port · \+[1-9][\d,]* to pods/, {
      timeout: 15_000,
    });
    await shot(page, info, '02b-live-counters');
    // Paused, the counters stay as they are: no read is made.
    await live.toggle.click();
    await expect(live.toggle).toHaveAttribute('aria-pressed', 'false');
    await expect(live.toggle).toHaveAccessibleName('Live counters (paused)');
    // A read in flight when paused is dropped: wait for that before taking the text to compare.
    await expect(live.status).not.toContainText('reading');
    const frozen = await live.status.textContent();
    await page.waitForTimeout(2_500);
    await expect(live.status).toHaveText(frozen ?? '');
    await live.toggle.press('Enter');
    await expect(live.toggle).toHaveAttribute('aria-pressed', 'true');
    await live.interval.selectOption({ label: 'every 5 s' });

    // Bad input in the trace box: one line beside it, nothing else changes.
    await app.trace('198.18.100.300');
    await expect(page.getByRole('region', { name: 'Trace a packet' }).getByRole('alert')).toContainText(
      '198.18.100.300',
    );
    // Before any guard, a stranger reaches a pod.
    await expect(await app.trace('198.18.100.13')).toContainText('reaches a pod');

    // The allow-list: the office group by pointer, one address typed, the vpn chip by keyboard.
    await app.dragToAllowList(app.paletteChip('198.18.100.10/31'));
    await expect(app.allowChips()).toHaveCount(1);
    await page.getByTestId('allow-input').fill('198.18.100.300');
    await page.getByTestId('allow-add').click();
    await expect(page.getByTestId('allow-error')).toBeVisible();
    await expect(app.allowChips()).toHaveCount(1);
    await page.getByTestId('allow-input').fill('2001:2::100:0/112');
    await page.getByTestId('allow-label-input').fill('vpn6');
    await page.getByTestId('allow-input').press('Enter');
    await expect(app.allowChips()).toHaveCount(2);
    const vpn = app.paletteChip('198.18.100.12/32');
    await vpn.focus();
    // Each step is spoken to screen readers; wait for the words, as a keyboard user hears them.
    await page.keyboard.press('Space');
    await expect(page.getByText('Picked up 198.18.100.12/32').first()).toBeAttached();
    await page.keyboard.press('ArrowUp');
    await expect(page.getByText('Over the allow-list').first()).toBeAttached();
    await page.keyboard.press('Space');
    await expect(app.allowChips()).toHaveCount(3);
    // The stranger seen now would be cut off: the palette says so before anything is applied.
    await expect(app.paletteChip('198.18.100.13/32').or(app.paletteChip('198.18.100.13'))).toContainText(
      /blocked|⚠/,
    );
    await shot(page, info, '03-allow-list');

    await page.getByTestId('save-policy').click();
    await expect(page.getByTestId('plan')).toContainText('NPG-TCP-30001', { timeout: 30_000 });
    // Lockout warnings stand next to the list: the node addresses are not allowed.
    await expect(page.getByRole('region', { name: 'Allow-list of tcp/30001' })).toContainText(
      'node addresses',
    );
    await shot(page, info, '04-plan');

    await page.getByTestId('apply').click();
    await expect(page.getByTestId('countdown')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('outcomes')).toContainText('changed and verified');
    await shot(page, info, '05-countdown');
    // Second thoughts: Roll back inside the countdown restores the nodes as they were (no guard).
    await page.getByRole('button', { name: 'Roll back', exact: true }).click();
    await expect(page.getByTestId('countdown')).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByTestId('outcomes')).toContainText('node1: changed and verified');
    expect((await probeLab({ from: '198.18.100.13', node: 'node1', port: 30001 })).outcome).toBe('reached');
    // And again, for good this time.
    await page.getByRole('button', { name: 'Plan again' }).click();
    await expect(page.getByTestId('apply')).toBeEnabled({ timeout: 30_000 });
    await page.getByTestId('apply').click();
    await expect(page.getByTestId('countdown')).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('confirm').click();
    await expect(page.getByTestId('countdown')).toHaveCount(0, { timeout: 30_000 });

    await app.drawerTab('Verify').click();
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect(page.getByTestId('verify-status')).toContainText('all guarded as planned', {
      timeout: 30_000,
    });
    await shot(page, info, '06-verify-green');

    // Real packets: the allowed source reaches a pod, the stranger is refused.
    expect((await probeLab({ from: '198.18.100.11', node: 'node2', port: 30001 })).outcome).toBe('reached');
    expect((await probeLab({ from: '198.18.100.13', node: 'node2', port: 30001 })).outcome).toBe('refused');
    // Guarded, the live counters tell turned-away packets from those that reach a pod.
    await expect(page.getByRole('region', { name: /Packet path 30001\/tcp/ })).toContainText('NPG-TCP-30001');
    for (let i = 0; i < 2; i++)
      expect((await probeLab({ from: '198.18.100.13', node: 'node1', port: 30001 })).outcome).toBe('refused');
    await expect(live.delta).toContainText(/\+[1-9][\d,]* blocked/, { timeout: 20_000 });
    await shot(page, info, '06b-live-guarded');

    // kube-proxy restarts on node2: its jump goes back in front of ours; the watch turns the cell red.
    await page.getByTestId('watch').click();
    await restartKubeProxy(lab.nodes[1]!);
    await expect(page.getByTestId('cell-node2-tcp/30001')).toContainText('drift', { timeout: 20_000 });
    await shot(page, info, '07-drift');
    await page.getByTestId('watch').click();

    // Re-apply heals it.
    await app.drawerTab('Plan · Apply').click();
    await page.getByRole('button', { name: 'Plan again' }).click();
    await expect(page.getByRole('button', { name: 'Plan again' })).toBeEnabled({ timeout: 30_000 });
    await page.getByLabel('Seconds to confirm before the nodes roll back (0: no countdown)').fill('0');
    await page.getByTestId('apply').click();
    await expect(page.getByTestId('outcomes')).toContainText('node2: changed and verified', {
      timeout: 60_000,
    });
    await app.drawerTab('Verify').click();
    await expect(page.getByTestId('cell-node2-tcp/30001')).toContainText('✓', { timeout: 30_000 });

    // Rolling back the heal changes nothing: our chains are what they were; only their place moved.
    await app.drawerTab('Plan · Apply').click();
    await page.getByRole('button', { name: 'Roll back last change' }).click();
    await page.getByRole('button', { name: 'Click again: roll back on every node' }).click();
    await expect(page.getByTestId('change-message')).toContainText('nothing to rollback', {
      timeout: 60_000,
    });

    // Export for the ticket, checked against the rules on the node.
    await app.drawerTab('Export').click();
    await page.getByTestId('export').click();
    await expect(page.getByRole('tab', { name: 'node1.v4.rules' })).toBeVisible({ timeout: 30_000 });
    await page.getByRole('tab', { name: 'node1.v4.rules' }).click();
    const exported = (await page.getByTestId('export-text').textContent()) ?? '';
    const onNode = (await nodeIptables(lab.nodes[0]!, ['-t', 'nat', '-S', 'NPG-TCP-30001']))
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    expect(onNode.length).toBe(3); // office, vpn, block (the IPv6 entry lives in ip6tables)
    for (const rule of onNode) expect(exported).toContain(rule);
    await shot(page, info, '08-export');

    // Remove the guard: the stranger reaches a pod again.
    await app.drawerTab('Plan · Apply').click();
    await page.getByRole('button', { name: 'Remove the guard' }).click();
    await page.getByRole('button', { name: 'Click again: remove from every node' }).click();
    await expect(page.getByTestId('outcomes')).toContainText('node1', { timeout: 60_000 });
    expect((await probeLab({ from: '198.18.100.13', node: 'node1', port: 30001 })).outcome).toBe('reached');

    await app.drawerTab('History').click();
    await expect(page.getByTestId('history')).toContainText('rollback');
    // Each entry carries its plan: the apply that guarded 30001 opens it in place, found by the filter.
    await page.getByLabel('Filter the history').fill('apply 198.18.100.10/31');
    const toggle = app.historyPlanToggles('apply').last();
    await expect(toggle).toBeVisible();
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByTestId('history')).toContainText('+ chain NPG-TCP-30001');
    await expect(page.getByTestId('history')).toContainText('198.18.100.10/31');
    // Words narrow together: the one rollback that touched node1's 30001 (the heal's rollback did nothing).
    await page.getByLabel('Filter the history').fill('node1 30001 rollback');
    await expect(app.historyPlanToggles('rollback')).toHaveCount(1);
    await page.getByLabel('Filter the history').fill('apply 198.18.100.10/31');
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await page.getByTestId('history').getByText('+ chain NPG-TCP-30001').first().scrollIntoViewIfNeeded();
    await shot(page, info, '09-history-plan');
  } finally {
    cleanUpWorkspace(ws);
  }
});

test('a node whose sshd is down shows its error; the others work', async ({ page }) => {
  test.setTimeout(120_000);
  const lab = await currentLab();
  const ws = labWorkspaceCopy(false);
  const app = new WorkspacePage(page);
  await fault('sshd-stop', 'node3');
  try {
    await app.start(E2E_TOKEN);
    await app.openWorkspace(ws.path);
    await app.trustHostKeys(lab.nodes.length - 1, 'Trust once');
    await expect(app.node('node1')).toContainText('ok', { timeout: 30_000 });
    await expect(app.node('node3')).toContainText('unreachable', { timeout: 30_000 });
    await expect(app.node('node3')).toContainText('node3');
    await expect(app.nodePort('tcp/30001')).toBeVisible();
  } finally {
    await fault('sshd-start', 'node3');
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('live counters: a node cut off mid-watch says why, and its last counters stay, marked stale', async ({
  page,
}, info) => {
  test.setTimeout(180_000);
  const lab = await currentLab();
  const ws = labWorkspaceCopy(false);
  const app = new WorkspacePage(page);
  try {
    await app.start(E2E_TOKEN);
    await app.openWorkspace(ws.path);
    await app.trustHostKeys(lab.nodes.length, 'Trust once');
    for (const n of lab.nodes) await expect(app.node(n.name)).toContainText('ok', { timeout: 30_000 });
    await app.findNodePort('30001', 'tcp/30001');
    await page.getByRole('button', { name: 'node3', exact: true }).click();
    const live = app.liveCounters();
    await live.interval.selectOption({ label: 'every 2 s' });
    await expect(live.status).toContainText(/read \d/, { timeout: 15_000 });
    await fault('cut', 'node3');
    await expect(live.error).toContainText('node3', { timeout: 90_000 });
    await expect(live.status).toContainText('stale');
    await expect(page.locator('[data-stale]')).toBeVisible();
    // The counters drawn are still there, from the last good read.
    await expect(page.getByRole('region', { name: /Packet path 30001\/tcp/ })).toContainText('pkts');
    await shot(page, info, '10-live-stale');
    await fault('uncut', 'node3');
    await expect(live.error).toHaveCount(0, { timeout: 90_000 });
  } finally {
    await fault('uncut', 'node3');
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('an encrypted key asks for its passphrase beside the nodes, again when wrong, and the nodes connect', async ({
  page,
}, info) => {
  test.setTimeout(120_000);
  const lab = await currentLab();
  const ws = labWorkspaceCopy(false);
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', `${ws.dir}/lab_ed25519`]);
  const app = new WorkspacePage(page);
  try {
    await app.start(E2E_TOKEN);
    await app.openWorkspace(ws.path);
    // The key is read before any node is reached: its passphrase is the first question.
    const prompt = page.getByTestId('credential-prompt');
    await expect(prompt).toContainText(/Passphrase for key \S*lab_ed25519/, { timeout: 30_000 });
    // The empty middle of the window points to the question in the corner.
    await expect(page.getByTestId('waiting-for-you')).toContainText('passphrase is asked in the Nodes panel');
    // The browser has no keychain: "remember" is off, and says why.
    await expect(prompt.getByTestId('credential-remember')).toBeDisabled();
    await expect(prompt).toContainText('remembering needs the desktop app');
    const field = prompt.getByLabel('Passphrase', { exact: true });
    await expect(field).toBeFocused();
    await field.fill('not it');
    await field.press('Enter');
    await expect(prompt).toContainText('That passphrase was wrong; try again.');
    await expect(prompt.getByLabel('Passphrase', { exact: true })).toHaveValue('');
    await shot(page, info, '11-passphrase');
    await prompt.getByLabel('Passphrase', { exact: true }).fill('correct horse');
    await prompt.getByRole('button', { name: 'Unlock' }).click();
    await app.trustHostKeys(lab.nodes.length, 'Trust once');
    // One key serves every node: asked once, and every node connects with it.
    for (const n of lab.nodes) await expect(app.node(n.name)).toContainText('ok', { timeout: 30_000 });
    await expect(prompt).toHaveCount(0);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('a changed host key is refused in red, naming where the old key is recorded', async ({ page }) => {
  const ws = labWorkspaceCopy(false);
  // A real ed25519 key that is not node1's, recorded for node1: OpenSSH calls this a changed host key.
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${ws.dir}/other`]);
  const other = readFileSync(`${ws.dir}/other.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(`${ws.dir}/known_hosts`, `198.18.0.11 ${other}\n`);
  const app = new WorkspacePage(page);
  try {
    await app.start(E2E_TOKEN);
    await app.openWorkspace(ws.path);
    await app.trustHostKeys(2, 'Trust once');
    await expect(app.node('node1')).toContainText('host key refused', { timeout: 30_000 });
    await expect(app.node('node1').locator('.node-error--refusal')).toContainText('known_hosts');
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test('bad input gets its message where it was typed, and changes nothing', async ({ page }) => {
  const app = new WorkspacePage(page);
  await app.start(E2E_TOKEN);
  await app.openWorkspace('/nonexistent/cluster.yaml');
  await expect(page.getByTestId('start-error')).toContainText('/nonexistent/cluster.yaml');
  await page
    .getByRole('textbox', { name: /Nodes, one per line/ })
    .fill('node1 198.18.0.11\nnode1 198.18.0.12');
  await page.getByLabel('New file').fill('/tmp/npg-e2e-never.yaml');
  await page.getByRole('button', { name: 'Create and open' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'named twice' })).toBeVisible();
});
