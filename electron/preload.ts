// Exposes window.npg: the api.ts methods as named functions (with streaming and cancel) and
// onMenu — never ipcRenderer itself. The logic is in shell/bridge.ts, unit-tested.
import { contextBridge, ipcRenderer } from 'electron';
import { apiMethods } from '../shared/api.js';
import { createBridge } from './shell/bridge.js';

contextBridge.exposeInMainWorld('npg', createBridge(ipcRenderer, apiMethods));
