// Electron IPC transport for api.ts: one `npg:<method>` channel per contract method, each
// registered through the checked wrapper that verifies the sender frame and parses the payload.
import { type IpcMainInvokeEvent, ipcMain } from 'electron';
import { apiMethods } from '../../shared/api.js';
import type { Dispatch } from './dispatch.js';
import { isAllowedNavigation } from './security.js';

export const channelFor = (method: string): string => `npg:${method}`;

export function registerIpcApi(dispatch: Dispatch, appUrl: string): () => void {
  for (const method of apiMethods) {
    ipcMain.handle(channelFor(method), (event: IpcMainInvokeEvent, payload: unknown) => {
      const from = event.senderFrame?.url ?? '';
      if (!isAllowedNavigation(from, appUrl)) {
        return {
          ok: false,
          error: {
            code: 'bad-input',
            message: `IPC ${method}: refused call from ${from || 'an unknown frame'}`,
          },
        };
      }
      return dispatch(method, payload);
    });
  }
  return () => {
    for (const method of apiMethods) ipcMain.removeHandler(channelFor(method));
  };
}
