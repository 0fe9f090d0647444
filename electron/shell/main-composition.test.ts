// main.ts against a fake `electron` module: Electron cannot be launched here, so this checks the
// composition root's wiring instead (what a window launch would exercise first): the session is
// locked down, every webContents is hardened, the window gets the secure options, the menu talks
// to the renderer, and the API is registered.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { MenuItemSpec } from './menu.js';

type Fn = (...args: never[]) => unknown;

interface FakeWebContents extends EventEmitter {
  readonly sent: unknown[][];
}

const fake = await vi.hoisted(async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const userData = { dir: '' };
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    sandboxed: false,
    enableSandbox() {
      app.sandboxed = true;
    },
    whenReady: () => Promise.resolve(),
    getPath: (name: string) => {
      if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
      return userData.dir;
    },
    quit() {},
    exit() {},
  });
  const session = {
    permissionRequest: undefined as undefined | Fn,
    permissionCheck: undefined as undefined | Fn,
    headers: undefined as undefined | Fn,
  };
  const windows: { options: Record<string, unknown>; url?: string; webContents: FakeWebContents }[] = [];
  const menus: { template?: MenuItemSpec[] } = {};
  const opened: string[] = [];
  const handlers = new Map<string, Fn>();
  return { userData, app, session, windows, menus, opened, handlers };
});

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  class BrowserWindow {
    webContents: FakeWebContents;
    constructor(options: Record<string, unknown>) {
      const webContents = Object.assign(new Emitter(), {
        sent: [] as unknown[][],
        send: (...args: unknown[]) => webContents.sent.push(args),
        isDestroyed: () => false,
        setWindowOpenHandler() {},
      });
      this.webContents = webContents;
      const entry: (typeof fake.windows)[number] = { options, webContents };
      fake.windows.push(entry);
      this.loadURL = (url: string) => {
        entry.url = url;
        return Promise.resolve();
      };
    }
    loadURL: (url: string) => Promise<void>;
    isDestroyed() {
      return false;
    }
  }
  return {
    app: fake.app,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (t: MenuItemSpec[]) => t,
      setApplicationMenu: (t: MenuItemSpec[]) => {
        fake.menus.template = t;
      },
    },
    nativeTheme: { shouldUseDarkColors: true },
    // No keyring here: remembering a passphrase is refused (shell/secrets.ts).
    safeStorage: {
      isEncryptionAvailable: () => false,
      encryptString: () => {
        throw new Error('no keychain');
      },
      decryptString: () => {
        throw new Error('no keychain');
      },
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (f: Fn) => {
          fake.session.permissionRequest = f;
        },
        setPermissionCheckHandler: (f: Fn) => {
          fake.session.permissionCheck = f;
        },
        webRequest: {
          onHeadersReceived: (f: Fn) => {
            fake.session.headers = f;
          },
        },
      },
    },
    shell: {
      openExternal: (url: string) => {
        fake.opened.push(url);
        return Promise.resolve();
      },
    },
    ipcMain: {
      handle: (channel: string, f: Fn) => fake.handlers.set(channel, f),
      removeHandler: (channel: string) => fake.handlers.delete(channel),
      on: () => {},
      removeListener: () => {},
    },
  };
});

vi.mock('../engine/service.js', () => ({
  createEngineService: (options: unknown) => ({ options, close: async () => {} }),
}));
vi.mock('../host/dispatch.js', () => ({
  createDispatcher: () => async () => ({ ok: true, value: null }),
}));

fake.userData.dir = mkdtempSync(join(tmpdir(), 'npg-main-'));
afterAll(() => rmSync(fake.userData.dir, { recursive: true, force: true }));

await import('../main.js');
await vi.waitFor(() => expect(fake.windows).toHaveLength(1));
const win = fake.windows[0]!;

describe('main.ts composition', () => {
  it('enables the sandbox for every renderer and denies every permission', () => {
    expect(fake.app.sandboxed).toBe(true);
    let granted: boolean | undefined;
    fake.session.permissionRequest!(...([null, 'media', (ok: boolean) => (granted = ok)] as never[]));
    expect(granted).toBe(false);
    expect(fake.session.permissionCheck!()).toBe(false);
  });

  it('puts the CSP on file: responses', () => {
    let out: { responseHeaders: Record<string, string[]> } | undefined;
    fake.session.headers!(
      ...([{ url: 'file:///x/index.html', responseHeaders: {} }, (r: typeof out) => (out = r)] as never[]),
    );
    expect(out!.responseHeaders['Content-Security-Policy']![0]).toContain("connect-src 'none'");
  });

  it('opens the window with secure preferences and the tested options, on our bundle', () => {
    const o = win.options as { webPreferences: Record<string, unknown> } & Record<string, unknown>;
    expect(o).toMatchObject({
      minWidth: 1280,
      minHeight: 800,
      title: 'NodePort Guard',
      backgroundColor: '#0f1419',
    });
    expect(o.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(o.webPreferences.preload)).toMatch(/preload\.cjs$/);
    expect(win.url).toMatch(/^file:\/\/.*\/renderer\/index\.html$/);
  });

  it('hardens every webContents: no webviews, no foreign navigation, no new windows', () => {
    const contents = Object.assign(new EventEmitter(), {
      openHandler: undefined as undefined | ((d: { url: string }) => { action: string }),
      setWindowOpenHandler(f: (d: { url: string }) => { action: string }) {
        contents.openHandler = f;
      },
    });
    fake.app.emit('web-contents-created', {}, contents);
    const prevented = (name: string, url?: string) => {
      let p = false;
      contents.emit(name, { url, preventDefault: () => (p = true) });
      return p;
    };
    expect(prevented('will-attach-webview')).toBe(true);
    expect(prevented('will-navigate', 'https://evil.example/')).toBe(true);
    expect(prevented('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(prevented('will-navigate', win.url)).toBe(false);
    expect(contents.openHandler!({ url: 'https://kubernetes.io/docs/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'http://kubernetes.io/docs/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(fake.opened).toEqual(['https://kubernetes.io/docs/']);
  });

  it('the menu sends its actions to the window on npg:menu; DevTools only unpackaged', () => {
    const t = fake.menus.template!;
    const file = t.find((m) => m.label === 'File')!;
    file.submenu![0]!.click!();
    expect(win.webContents.sent).toEqual([['npg:menu', { action: 'open-workspace' }]]);
    expect(JSON.stringify(t)).toContain('toggleDevTools');
  });

  it('registers the API channels', () => {
    expect(fake.handlers.has('npg:inspect')).toBe(true);
    expect(fake.handlers.has('npg:startWorkspace')).toBe(true);
    expect(fake.handlers.has('npg:credentialAnswer')).toBe(true);
  });
});
