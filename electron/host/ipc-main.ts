// Electron IPC transport for api.ts: one `npg:<method>` invoke channel per contract method, with
// progress events streamed on `npg:event` and cancellation on `npg:cancel`.
// Every channel is registered through handleChecked, which refuses anything not sent by our own
// page's top frame. The decisions (message shape, call registry, one call's life) are pure and
// tested in shell/call-registry.ts; this file only wires them to ipcMain and webContents.
import { type IpcMainEvent, type IpcMainInvokeEvent, ipcMain, type WebContents } from 'electron';
import { apiMethods } from '../../shared/api.js';
import { CallRegistry, isCallId, refusal, runCall } from '../shell/call-registry.js';
import { CANCEL_CHANNEL, channelFor } from '../shell/channels.js';
import type { Dispatch } from './dispatch.js';
import { isTrustedSender } from './security.js';

export { channelFor } from '../shell/channels.js';

type Spec =
  | {
      readonly kind: 'invoke';
      readonly channel: string;
      readonly handler: (event: IpcMainInvokeEvent, arg: unknown) => unknown;
    }
  | {
      readonly kind: 'send';
      readonly channel: string;
      readonly handler: (event: IpcMainEvent, arg: unknown) => void;
    };

/** Undefined when the message comes from our page's top frame, else who sent it (for the error). */
function untrustedSender(event: IpcMainEvent | IpcMainInvokeEvent, appUrl: string): string | undefined {
  try {
    const frame = event.senderFrame;
    const frameUrl = frame?.url;
    const isTopFrame = frame != null && frame === event.sender.mainFrame;
    if (isTrustedSender({ frameUrl, isTopFrame }, appUrl)) return undefined;
    return `${isTopFrame ? 'frame' : 'a subframe or unknown frame'} ${frameUrl?.slice(0, 200) || '(no url)'}`;
  } catch {
    return 'a frame that is gone';
  }
}

/** The one way this module registers an IPC channel. Returns its unregister function. */
function handleChecked(appUrl: string, spec: Spec): () => void {
  if (spec.kind === 'invoke') {
    ipcMain.handle(spec.channel, async (event: IpcMainInvokeEvent, arg: unknown) => {
      const from = untrustedSender(event, appUrl);
      if (from !== undefined) return refusal(`IPC ${spec.channel}: refused a call from ${from}`);
      try {
        return await spec.handler(event, arg);
      } catch (err) {
        const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
        return { ok: false, error: { code: 'failed', message: `IPC ${spec.channel}: ${message}` } };
      }
    });
    return () => ipcMain.removeHandler(spec.channel);
  }
  const listener = (event: IpcMainEvent, arg: unknown): void => {
    if (untrustedSender(event, appUrl) !== undefined) return;
    try {
      spec.handler(event, arg);
    } catch (err) {
      console.error(`IPC ${spec.channel}:`, err);
    }
  };
  ipcMain.on(spec.channel, listener);
  return () => ipcMain.removeListener(spec.channel, listener);
}

/** Registers every channel; returns the function that unregisters them and aborts calls in flight. */
export function registerIpcApi(dispatch: Dispatch, appUrl: string): () => void {
  const registry = new CallRegistry();
  // Per webContents: detaches the listeners that abort its calls when it closes, reloads or crashes.
  const watched = new Map<number, () => void>();

  function watch(wc: WebContents): void {
    const id = wc.id;
    if (watched.has(id)) return;
    const onNavigated = () => registry.cancelAll(id, 'the page was reloaded');
    const onGone = () => registry.cancelAll(id, 'the renderer process is gone');
    const onDestroyed = () => {
      registry.cancelAll(id, 'the window closed');
      watched.delete(id);
    };
    wc.on('did-navigate', onNavigated);
    wc.on('render-process-gone', onGone);
    wc.once('destroyed', onDestroyed);
    watched.set(id, () => {
      if (wc.isDestroyed()) return;
      wc.removeListener('did-navigate', onNavigated);
      wc.removeListener('render-process-gone', onGone);
      wc.removeListener('destroyed', onDestroyed);
    });
  }

  const unregister = [
    ...apiMethods.map((method) =>
      handleChecked(appUrl, {
        kind: 'invoke',
        channel: channelFor(method),
        handler: (event, msg) => {
          watch(event.sender);
          return runCall({ registry, dispatch, sender: event.sender, method, msg });
        },
      }),
    ),
    handleChecked(appUrl, {
      kind: 'send',
      channel: CANCEL_CHANNEL,
      handler: (event, callId) => {
        if (isCallId(callId)) registry.cancel(event.sender.id, callId);
      },
    }),
  ];

  return () => {
    for (const off of unregister) off();
    registry.cancelEverything();
    for (const detach of watched.values()) detach();
    watched.clear();
  };
}
