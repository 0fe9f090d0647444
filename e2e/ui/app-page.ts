// Page object for the NodePort Guard UI: tests say what an engineer does, not which selector.
import { expect, type Page } from '@playwright/test';

export class AppPage {
  constructor(readonly page: Page) {
    // Loud logs: console errors and page errors show up in the test output.
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`[browser ${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
  }

  /** The start screen, then offline analysis of one dump. */
  async open(token: string) {
    await this.page.goto(`/?token=${token}`);
    await expect(this.page.getByRole('heading', { name: 'NodePort Guard' })).toBeVisible();
    await this.page.getByTestId('open-dump').click();
  }

  async loadDumpFile(name: string, text: string) {
    await this.page
      .getByTestId('dump-file')
      .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  }

  async pasteDump(text: string) {
    await this.page.getByTestId('dump-paste').fill(text);
    await this.page.getByRole('button', { name: 'Inspect pasted rules' }).click();
  }

  nodePort(port: number, protocol = 'tcp') {
    return this.page.getByTestId(`nodeport-${protocol}/${port}`);
  }

  async trace(src: string, node: string) {
    await this.page.getByLabel('Source address').fill(src);
    await this.page.getByLabel('Node address').fill(node);
    await this.page.getByRole('button', { name: 'Trace', exact: true }).click();
    return this.page.getByTestId('trace-outcomes');
  }
}
