// The Electron shell: build the services, register the API, open the window. No logic here.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, shell } from 'electron';
import { createEngineService } from './engine/service.js';
import { createDispatcher } from './host/dispatch.js';
import { registerIpcApi } from './host/ipc-main.js';
import { isAllowedNavigation, secureWebPreferences } from './host/security.js';
import { windowOptions } from './window-options.js';

const rendererIndex = join(__dirname, '../renderer/index.html');
const appUrl = pathToFileURL(rendererIndex).href;

app.enableSandbox();
app.whenReady().then(() => {
  registerIpcApi(createDispatcher(createEngineService()), appUrl);
  const win = new BrowserWindow({
    ...windowOptions(),
    webPreferences: secureWebPreferences(join(__dirname, 'preload.cjs')),
  });
  win.webContents.on('will-navigate', (e, url) => {
    if (!isAllowedNavigation(url, appUrl)) e.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(appUrl);
});
app.on('window-all-closed', () => app.quit());
