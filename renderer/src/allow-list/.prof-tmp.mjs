import { chromium } from '@playwright/test';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
await page.goto(`http://127.0.0.1:5182/demo.html?n=${process.argv[2] ?? 1000}`);
await page.getByTestId('allow-zone').waitFor();
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () =>
  Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
// In-page: time from keydown to two frames later.
await page.evaluate(() => {
  window.__t = [];
  document.addEventListener(
    'keydown',
    (e) => {
      const t0 = performance.now();
      requestAnimationFrame(() =>
        requestAnimationFrame(() =>
          window.__t.push(`${e.key}: ${(performance.now() - t0).toFixed(0)} ms to 2nd frame`),
        ),
      );
    },
    true,
  );
});
async function step(label, fn) {
  const a = await metrics();
  await fn();
  await page.waitForTimeout(300);
  const b = await metrics();
  const d = (k) => ((b[k] - a[k]) * 1000).toFixed(0);
  console.log(
    `${label}: script ${d('ScriptDuration')} ms, style ${d('RecalcStyleDuration')} ms, layout ${d('LayoutDuration')} ms, task ${d('TaskDuration')} ms`,
    await page.evaluate(() => window.__t.splice(0)),
  );
}
await page.locator('[data-testid="palette-chip"][data-cidr="192.0.2.10/32"]').focus();
await step('pickup', () => page.keyboard.press('Space'));
await step('arrow', () => page.keyboard.press('ArrowUp'));
await step('drop', () => page.keyboard.press('Space'));

await page.locator('[data-testid="allow-chip"]').nth(3).focus();
await step('delete', () => page.keyboard.press('Delete'));
await page.getByTestId('allow-input').focus();
await step('type', () => page.keyboard.press('1'));
await browser.close();
