// The Electron shell, as a composition root: build the services, lock the session down, register
// the API, open the window, install the menu. Every decision is a tested function elsewhere
// (host/security.ts, host/ipc-main.ts + shell/call-registry.ts, shell/*.ts, window-options.ts).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  app,
  BrowserWindow,
  Menu,
  nativeTheme,
  safeStorage,
  session,
  shell,
  type WebContents,
} from 'electron';
import { readRecent } from './engine/service/workspace-files.js';
import type { EngineOptions } from './engine/service.js';
import { startEngineThread } from './host/engine-thread.js';
import { registerIpcApi } from './host/ipc-main.js';
import { withRememberedSecrets } from './host/remembered-secrets.js';
import {
  contentSecurityPolicy,
  externalLinkTarget,
  isAllowedNavigation,
  secureWebPreferences,
  withCspHeaders,
} from './host/security.js';
import { MENU_CHANNEL } from './shell/channels.js';
import { type MenuAction, type MenuMessage, menuTemplate } from './shell/menu.js';
import { createSecretStore, secretStorageRefusal } from './shell/secrets.js';
import { resolveStartWorkspace, workspaceFromArgv } from './shell/start-workspace.js';
import { windowOptions } from './window-options.js';

const appUrl = pathToFileURL(join(__dirname, '../renderer/index.html')).href;
const csp = contentSecurityPolicy({ allowWebSocket: false });

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => hardenContents(contents));
app.on('window-all-closed', () => app.quit());
app
  .whenReady()
  .then(async () => {
    lockDownSession();
    const startWorkspace = await resolveStartWorkspace({
      argvWorkspace: workspaceFromArgv(process.argv, process.cwd()),
      lastWorkspace: async () => (await readRecent())[0]?.path ?? null,
    });
    // The engine runs in its own thread (host/engine-worker.ts): parsing a big dump or reading
    // many nodes never blocks this thread's IPC, window and menu.
    const workerData: EngineOptions = startWorkspace === null ? {} : { startWorkspace };
    const engine = startEngineThread({
      spawn: () => new Worker(join(__dirname, 'engine-worker.cjs'), { workerData }),
    });
    // Quit once the engine has closed its SSH sessions (close() gives up after a few seconds).
    let engineClosed = false;
    app.on('will-quit', (event) => {
      if (engineClosed) return;
      event.preventDefault();
      void engine.close().finally(() => {
        engineClosed = true;
        app.quit();
      });
    });
    // Remembered passphrases stay in this process: answered from the keychain, never sent to the page.
    const secrets = createSecretStore({ safeStorage, dir: app.getPath('userData') });
    const dispatch = withRememberedSecrets(engine.dispatch, {
      store: secrets,
      refusal: () => secretStorageRefusal(safeStorage, process.platform),
    });
    registerIpcApi(dispatch, appUrl);
    const win = openWindow();
    installMenu((action) => sendMenuAction(win, action));
  })
  .catch((err: unknown) => {
    console.error('NodePort Guard: start-up failed:', err);
    app.exit(1);
  });

/** No permission is ever granted, and our bundle's responses carry our CSP. */
function lockDownSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // Belt and braces: webRequest hooks have not always fired for file:// responses (electron#23485;
  // recent versions do), so the header is one layer only. The CSP also holds through the sandbox,
  // contextIsolation, the refused navigations below, and should be repeated as a <meta> tag in
  // renderer/index.html.
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: withCspHeaders(details.url, details.responseHeaders, csp) }),
  );
}

/** Every webContents (the window, and anything else that ever appears): no webviews, no navigation
 * away from our bundle, no new windows; allow-listed links open in the user's browser. */
function hardenContents(contents: WebContents): void {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.on('will-navigate', (event) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    const target = externalLinkTarget(url);
    if (target !== undefined) void shell.openExternal(target);
    return { action: 'deny' };
  });
}

function openWindow(): BrowserWindow {
  const win = new BrowserWindow({
    ...windowOptions({ dark: nativeTheme.shouldUseDarkColors }),
    webPreferences: secureWebPreferences(join(__dirname, 'preload.cjs')),
  });
  // The launch test (electron/launch.test.ts) waits for this line; shipped builds stay quiet.
  win.webContents.once('did-finish-load', () => {
    if (!app.isPackaged) console.log('NodePort Guard: window ready');
  });
  void win.loadURL(appUrl);
  return win;
}

function installMenu(onAction: (action: MenuAction) => void): void {
  const template = menuTemplate({ isMac: process.platform === 'darwin', packaged: app.isPackaged, onAction });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function sendMenuAction(win: BrowserWindow, action: MenuAction): void {
  if (win.isDestroyed() || win.webContents.isDestroyed()) return;
  const msg: MenuMessage = { action };
  win.webContents.send(MENU_CHANNEL, msg);
}
