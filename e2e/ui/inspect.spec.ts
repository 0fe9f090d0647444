// An on-call engineer opens a node's rules, finds the NodePort, reads its path and asks whether a
// source gets through — in the real UI, served by the real web host, on real iptables-save output.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { E2E_TOKEN } from '../../playwright.config';
import { AppPage } from './app-page';

const fixture = (name: string) => readFileSync(`e2e/lab/fixtures/${name}`, 'utf8');

test('open a dump, read a NodePort path, see its endpoints', async ({ page }, info) => {
  const app = new AppPage(page);
  await app.open(E2E_TOKEN);
  await app.loadDumpFile('node1.txt', fixture('iptables-v4-current.iptables-save.txt'));
  await expect(page.getByTestId('summary')).toContainText('kube-proxy iptables');
  await expect(page.getByTestId('summary')).toContainText('7 NodePorts');

  await app.nodePort(30001).click();
  // The diagram draws the chains; the text view lists the same path for a quick read.
  const diagram = page.getByRole('region', { name: /Packet path 30001\/tcp/ });
  for (const chain of ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS'])
    await expect(diagram).toContainText(chain);
  await page.getByRole('button', { name: 'Show as text' }).click();
  const path = page.getByLabel('Packet path for 30001/tcp');
  for (const chain of ['PREROUTING', 'KUBE-SERVICES', 'KUBE-NODEPORTS'])
    await expect(path).toContainText(chain);
  await expect(path.locator('.endpoint')).toHaveCount(4);
  await expect(path).toContainText('25.0%');
  await page.screenshot({ path: info.outputPath('nodeport-path.png') });

  await app.nodePort(30004).click();
  await expect(page.getByLabel('Packet path for 30004/tcp')).toContainText('no endpoints');
});

test("a filter INPUT rule on a NodePort's port is named under its diagram, with why it never sees the traffic", async ({
  page,
}, info) => {
  const app = new AppPage(page);
  await app.open(E2E_TOKEN);
  // The mistake that starts such incidents: a DROP in filter INPUT for the NodePort.
  const dump = fixture('iptables-v4-current.iptables-save.txt').replace(
    '[0:0] -A INPUT -j KUBE-FIREWALL',
    '[0:0] -A INPUT -j KUBE-FIREWALL\n[0:0] -A INPUT -p tcp -m tcp --dport 30001 -j DROP',
  );
  await app.loadDumpFile('node1.txt', dump);
  await app.nodePort(30001).click();
  const notes = page.getByRole('list', { name: 'Notes on 30001/tcp' });
  await expect(notes).toContainText('filter INPUT rule `-A INPUT -p tcp -m tcp --dport 30001 -j DROP`');
  await expect(notes).toContainText("never sees this NodePort's traffic");
  await page.screenshot({ path: info.outputPath('input-rule-note.png') });
});

test("an nftables-mode node's ruleset (nft -j) reads the same way, with nftables' own chain names", async ({
  page,
}, info) => {
  const app = new AppPage(page);
  await app.open(E2E_TOKEN);
  // Real `nft -j list ruleset` of a k3s node's kube-proxy table (corpus README: its hand-read answer).
  await app.loadDumpFile('node.json', fixture('corpus/nftables-k3s-riset.nft-j.json'));
  await expect(page.getByTestId('summary')).toContainText('kube-proxy nftables');
  await app.nodePort(30000).click();
  const diagram = page.getByRole('region', { name: /Packet path 30000\/tcp/ });
  for (const chain of ['nat-prerouting', 'services', 'external-P6J77WGM'])
    await expect(diagram).toContainText(chain);
  await page.screenshot({ path: info.outputPath('nft-diagram.png') });
  await page.getByRole('button', { name: 'Show as text' }).click();
  const path = page.getByLabel('Packet path for 30000/tcp');
  await expect(path.locator('.endpoint')).toHaveCount(9);
  await expect(path).toContainText('10.42.2.218:8080');
  await expect(path).toContainText('11.1%');
  await page.screenshot({ path: info.outputPath('nft-path-text.png') });
  // The tracer walks the nft rules: an outside source reaches one of the nine endpoints, 1/9 each.
  const traced = await app.trace('198.18.100.99', '10.34.4.246');
  await expect(traced.locator('.outcome--dnat')).toHaveCount(9);
  await expect(traced).toContainText('DNAT to 10.42.2.218:8080');
  await expect(traced).toContainText('11.1%');
  await expect(page.locator('#trace-error')).toHaveCount(0);
});

test('trace: the one-line REDIRECT guard blocks one source, lets another through', async ({ page }, info) => {
  const app = new AppPage(page);
  await app.open(E2E_TOKEN);
  const dump = fixture('iptables-v4-current-oneliner-guard.iptables-save.txt');
  // The guard allows `! -s A.B.C.D/N`; a host inside that range (D+1, N <= 30) must get through.
  const m = /! -s (\d+\.\d+\.\d+\.)(\d+)\/(\d+) /.exec(
    dump.split('\n').find((l) => l.includes('REDIRECT')) ?? '',
  );
  expect(m, 'fixture has a ! -s CIDR guard').toBeTruthy();
  const allowed = `${m![1]}${Number(m![2]) + 1}`;
  await app.pasteDump(dump);
  await app.nodePort(30001).click();

  const blocked = await app.trace('198.18.100.99', '198.18.0.11');
  await expect(blocked).toContainText('redirected (blocked)');
  await expect(blocked).toContainText('65535');
  await page.screenshot({ path: info.outputPath('trace-blocked.png') });

  const ok = await app.trace(allowed, '198.18.0.11');
  await expect(ok).toContainText('reaches a pod');
  await expect(ok).not.toContainText('redirected');
});

test('bad input: a one-line error, nothing else changes', async ({ page }) => {
  const app = new AppPage(page);
  await app.open(E2E_TOKEN);
  await app.pasteDump('*nat\n-A PREROUTING --bogus\nCOMMIT\n');
  await expect(page.getByTestId('error')).toContainText('line 2');
  await expect(page.getByTestId('summary')).toHaveCount(0);
});
