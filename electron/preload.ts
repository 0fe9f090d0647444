// Exposes the api.ts methods as named functions on window.npg — never ipcRenderer itself.
import { contextBridge, ipcRenderer } from 'electron';
import { apiMethods } from '../shared/api.js';

const bridge = Object.fromEntries(
  apiMethods.map((method) => [method, (req: unknown) => ipcRenderer.invoke(`npg:${method}`, req)]),
);
contextBridge.exposeInMainWorld('npg', Object.freeze(bridge));
