// Drives the allow-list editor's demo page in Chromium: a pointer drag, a keyboard-only drag, typed
// entries, the audit switch; screenshots light/dark/narrow into /tmp/allow-*.png. Not a test suite:
//   npx vite --config renderer/src/allow-list/vite.demo.config.ts &
//   node renderer/src/allow-list/demo-drive.mjs [http://127.0.0.1:5181/demo.html]
import { chromium } from '@playwright/test';

const url = process.argv[2] ?? 'http://127.0.0.1:5181/demo.html';
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
const page = await context.newPage();
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning') console.log(`[console.${m.type()}] ${m.text()}`);
});
page.on('pageerror', (e) => {
  console.log(`[pageerror] ${e.message}`);
  failures++;
});

// Everything said to screen readers (dnd-kit's live region and the editor's own), in order.
await page.addInitScript(() => {
  window.__said = [];
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('[id^="DndLiveRegion"], [data-testid="allow-announce"]')) {
      const text = el.textContent.replace('\u200b', '').trim();
      if (text && el.dataset.last !== text) {
        el.dataset.last = text;
        window.__said.push(text);
      }
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
});
const said = () => page.evaluate(() => window.__said.splice(0));

const zone = page.getByTestId('allow-zone');
const allowChip = (cidr) => page.locator(`[data-testid="allow-chip"][data-cidr="${cidr}"]`);
const paletteChip = (cidr) => page.locator(`[data-testid="palette-chip"][data-cidr="${cidr}"]`);
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement;
    return `${el?.getAttribute('data-testid') ?? el?.tagName} ${el?.getAttribute('data-cidr') ?? el?.getAttribute('aria-label') ?? ''}`;
  });

async function dragWithMouse(from, to, shot) {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  const steps = 12;
  const tx = b.x + b.width / 2;
  const ty = b.y + Math.min(b.height / 2, 40);
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(
      a.x + a.width / 2 + ((tx - a.x - a.width / 2) * i) / steps,
      a.y + a.height / 2 + ((ty - a.y - a.height / 2) * i) / steps,
    );
  }
  if (shot) await page.screenshot({ path: shot });
  await page.mouse.up();
}

await page.goto(url);
await zone.waitFor();
check((await page.getByTestId('allow-chip').count()) === 5, 'starts with 5 entries');
check(
  (await paletteChip('192.0.2.10/32').getAttribute('data-state')) === 'blocked',
  '192.0.2.10 is marked would-be-blocked',
);
check(
  (await paletteChip('192.0.2.10/32').textContent()).includes('would be blocked'),
  'the blocked chip says so in words',
);
check(
  (await page.locator('[data-state="blocked"]').count()) === 1,
  'exactly one observed source would be blocked',
);
await page.screenshot({ path: '/tmp/allow-light.png', fullPage: true });

// 1. Pointer: drag the blocked observed source into the list.
await dragWithMouse(paletteChip('192.0.2.10/32'), zone, '/tmp/allow-dragging.png');
await allowChip('192.0.2.10/32')
  .waitFor({ timeout: 2000 })
  .catch(() => {});
check((await allowChip('192.0.2.10/32').count()) === 1, 'mouse drag: 192.0.2.10/32 landed in the list');
check(
  (await paletteChip('192.0.2.10/32').getAttribute('data-state')) === 'covered',
  'mouse drag: the chip is no longer marked blocked',
);
console.log('  said:', await said());

// 2. Keyboard only: a group entry, Space, ArrowUp, Space.
await paletteChip('198.18.104.0/24').focus();
await page.keyboard.press('Space');
await page.waitForTimeout(100);
await page.keyboard.press('ArrowUp');
await page.waitForTimeout(150);
await page.screenshot({ path: '/tmp/allow-keyboard-drag.png' });
await page.keyboard.press('Space');
await page.waitForTimeout(150);
check(
  (await allowChip('198.18.104.0/24').count()) === 1,
  'keyboard drag: 198.18.104.0/24 landed in the list',
);
check(
  (await allowChip('198.18.104.0/24').getAttribute('aria-label')) === '198.18.104.0/24 (office-berlin)',
  'keyboard drag: label kept',
);
const kbSaid = await said();
console.log('  said:', kbSaid);
check(kbSaid.includes('Picked up 198.18.104.0/24 (office-berlin)'), 'announced: Picked up …');
check(kbSaid.includes('Over the allow-list'), 'announced: Over the allow-list');
check(
  kbSaid.some((s) => s.startsWith('Dropped 198.18.104.0/24 into the allow-list of 30001/tcp')),
  'announced: Dropped … into the allow-list of 30001/tcp',
);
check(
  (await focused()).startsWith('palette-chip 198.18.104.0/24'),
  `focus stays on the palette chip (${await focused()})`,
);

// 3. Keyboard: pick up, cancel with Escape.
await page.keyboard.press('Space');
await page.waitForTimeout(100);
await page.keyboard.press('ArrowUp');
await page.waitForTimeout(100);
await page.keyboard.press('Escape');
await page.waitForTimeout(100);
const cancelSaid = await said();
check(cancelSaid.includes('Cancelled: nothing changed'), `announced: Cancelled (${cancelSaid.join(' | ')})`);
check((await page.getByTestId('allow-chip').count()) === 7, 'cancel changed nothing');

// 4. Keyboard: drag a list chip out onto the palette (ArrowDown), then Delete another.
await allowChip('203.0.113.50/32').focus();
await page.keyboard.press('Space');
await page.waitForTimeout(100);
await page.keyboard.press('ArrowDown');
await page.waitForTimeout(150);
await page.keyboard.press('Space');
await page.waitForTimeout(150);
check((await allowChip('203.0.113.50/32').count()) === 0, 'keyboard drag out: 203.0.113.50/32 removed');
console.log('  said:', await said(), '· focus:', await focused());
check(
  (await paletteChip('203.0.113.50/32').getAttribute('data-state')) === 'blocked',
  'the observed 203.0.113.50 is now would-be-blocked',
);
await allowChip('192.0.2.10/32').focus();
await page.keyboard.press('Delete');
await page.waitForTimeout(100);
check((await allowChip('192.0.2.10/32').count()) === 0, 'Delete removed 192.0.2.10/32');
check(
  (await focused()).startsWith('allow-chip'),
  `after Delete focus is on a neighbouring chip (${await focused()})`,
);
console.log('  said:', await said());

// 5. Arrow keys move between chips; F2 relabels.
await allowChip('198.18.100.0/24').focus();
await page.keyboard.press('ArrowDown');
check(
  (await focused()).startsWith('allow-chip 35.191.0.0/16'),
  `ArrowDown moves to the next chip (${await focused()})`,
);
await page.keyboard.press('ArrowRight');
check(
  (await focused()).includes('Edit label of 35.191.0.0/16'),
  `ArrowRight reaches the chip's edit button (${await focused()})`,
);
await page.keyboard.press('ArrowRight');
check(
  (await focused()).includes('Remove 35.191.0.0/16 (gcp-hc)'),
  `… then its remove button (${await focused()})`,
);
await page.keyboard.press('ArrowLeft');
await page.keyboard.press('ArrowLeft');
await page.keyboard.press('F2');
await page.keyboard.type('gcp health checks');
await page.keyboard.press('Enter');
check(
  (await allowChip('35.191.0.0/16').getAttribute('aria-label')) === '35.191.0.0/16 (gcp health checks)',
  'F2 relabelled the chip',
);
check(
  (await focused()).startsWith('allow-chip 35.191.0.0/16'),
  `focus back on the chip after relabel (${await focused()})`,
);

// 6. Pointer: drag a whole saved group.
await dragWithMouse(page.locator('[data-testid="palette-group"][data-group="vpn"]'), zone);
await page.waitForTimeout(100);
check(
  (await allowChip('100.64.10.0/24').count()) === 1 && (await allowChip('2001:2:0:10::/64').count()) === 1,
  'group drag: both vpn entries added',
);
console.log('  said:', await said());

// 6b. Pointer: drag a list chip out onto the palette removes it.
await dragWithMouse(allowChip('100.64.10.0/24'), page.getByTestId('palette'), '/tmp/allow-drag-out.png');
await page.waitForTimeout(100);
check((await allowChip('100.64.10.0/24').count()) === 0, 'mouse drag out: 100.64.10.0/24 removed');
console.log('  said:', await said());

// 7. The no-drag path: the + button.
await page.getByRole('button', { name: 'Add 130.211.1.4 to the allow-list (already allowed)' }).waitFor();
await page.getByRole('button', { name: 'Add 203.0.113.50 to the allow-list' }).click();
check((await allowChip('203.0.113.50/32').count()) === 1, 'Add button added 203.0.113.50/32');

// 8. Typed entries: errors as typed, under the field, tied to it.
const input = page.getByTestId('allow-input');
await input.fill('198.18.100.7/24');
const hostBits = await page.getByTestId('allow-error').textContent();
check(hostBits.startsWith('host bits set: did you mean 198.18.100.0/24?'), `host bits hint: "${hostBits}"`);
check((await input.getAttribute('aria-invalid')) === 'true', 'aria-invalid set');
const describedBy = await input.getAttribute('aria-describedby');
const errorId = await page.getByTestId('allow-error').getAttribute('id');
check(describedBy.split(' ').includes(errorId), 'aria-describedby points at the error');
await input.fill('300.1.1.1');
console.log('  error:', await page.getByTestId('allow-error').textContent());
const before = await page.getByTestId('allow-chip').count();
await input.press('Enter');
check((await page.getByTestId('allow-chip').count()) === before, 'Enter on a bad address adds nothing');
await input.fill('2001:2::/48');
check(
  (await page.getByTestId('allow-error').textContent()).startsWith('already in the list'),
  'duplicate refused',
);
await input.fill(' 198.18.100.9 ');
console.log('  note:', await page.getByTestId('allow-note').textContent());
await page.screenshot({ path: '/tmp/allow-note-light.png' });
await input.fill('198.51.100.23');
await page.getByTestId('allow-label-input').fill('on-call laptop');
await page.getByTestId('allow-label-input').press('Enter');
check(
  (await allowChip('198.51.100.23/32').getAttribute('aria-label')) === '198.51.100.23/32 (on-call laptop)',
  'typed add with label',
);
check((await input.inputValue()) === '', 'fields cleared after add');
console.log('  said:', await said());
await input.fill('198.18.100.7/24');

// 9. Audit switch.
const sw = page.getByTestId('audit-switch');
await sw.click();
check(
  (await sw.getAttribute('aria-checked')) === 'true' && (await sw.getAttribute('role')) === 'switch',
  'audit switch on',
);

// 10. Tab order: switch -> list (one stop) -> save group -> address -> label -> Add.
await sw.focus();
const order = [];
for (let i = 0; i < 6; i++) {
  await page.keyboard.press('Tab');
  order.push(await focused());
}
console.log('  tab order:', order);
check(order[0].startsWith('allow-chip'), 'one Tab from the switch reaches the list');
check(
  order.some((o) => o.startsWith('allow-input')),
  'the address field is a few Tabs away, not one per chip',
);

await page.screenshot({ path: '/tmp/allow-light.png', fullPage: true });
await page.emulateMedia({ colorScheme: 'dark' });
await page.screenshot({ path: '/tmp/allow-dark.png', fullPage: true });

// Narrow column (the app's right pane) and the CSS fallbacks (no app variables).
await page.goto(`${url}?width=380&vars=none`);
await zone.waitFor();
await page.getByTestId('allow-input').fill('a;b');
await page.screenshot({ path: '/tmp/allow-narrow-dark.png', fullPage: true });
await page.emulateMedia({ colorScheme: 'light' });
await page.screenshot({ path: '/tmp/allow-narrow-light.png', fullPage: true });

// States: empty list, conntrack error, loading.
await page.goto(`${url}?empty&error&loading`);
await zone.waitFor();
await page.emulateMedia({ colorScheme: 'dark' });
await page.screenshot({ path: '/tmp/allow-states-dark.png', fullPage: true });
check(
  (await page.getByTestId('observed-error').textContent()).includes('permission denied'),
  'conntrack error shown beside its section',
);
await page.emulateMedia({ colorScheme: 'light' });

// Disabled: nothing can be edited, by button or by drag.
await page.goto(`${url}?disabled`);
await zone.waitFor();
check(await page.getByTestId('allow-add').isDisabled(), 'disabled: Add is disabled');
check(await page.getByTestId('audit-switch').isDisabled(), 'disabled: the audit switch is disabled');
await dragWithMouse(paletteChip('192.0.2.10/32'), zone);
check((await allowChip('192.0.2.10/32').count()) === 0, 'disabled: a drag changes nothing');

// 1,000 entries: typing and a keyboard drop must stay quick.
await page.goto(`${url}?n=1000`);
await zone.waitFor();
check((await page.getByTestId('allow-chip').count()) === 1005, '1,005 chips rendered');
const t0 = Date.now();
await page.getByTestId('allow-input').pressSequentially('198.51.100.99', { delay: 0 });
const typing = Date.now() - t0;
const t1 = Date.now();
await page.getByTestId('allow-input').press('Enter');
await allowChip('198.51.100.99/32').waitFor();
const adding = Date.now() - t1;
await paletteChip('192.0.2.10/32').focus();
const t2 = Date.now();
await page.keyboard.press('Space');
await page.locator('.ale[data-dragging]').waitFor();
const pickup = Date.now() - t2;
await page.waitForTimeout(50); // dnd-kit listens for the next key one tick after the pickup
await page.keyboard.press('ArrowUp');
await page.locator('.ale-zone--over').waitFor();
await page.keyboard.press('Space');
await allowChip('192.0.2.10/32').waitFor();
const dropping = Date.now() - t2 - 50;
console.log(`  pickup ${pickup} ms`);
const t3 = Date.now();
await allowChip('10.0.5.0/24').focus();
await page.keyboard.press('Delete');
await allowChip('10.0.5.0/24').waitFor({ state: 'detached' });
const deleting = Date.now() - t3;
console.log(
  `  1,000 entries: type 13 chars ${typing} ms, add ${adding} ms, keyboard drop ${dropping} ms, delete ${deleting} ms`,
);
// Generous: a dev build on a busy machine; the production build is 3-5x faster (vite build + preview).
check(typing < 1500 && adding < 1000 && dropping < 2500 && deleting < 1000, 'long list stays responsive');

await browser.close();
console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
