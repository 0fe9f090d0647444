// The IPC channel names shared by the main process (ipc-main.ts) and the preload (bridge.ts).

/** renderer -> main, invoke: one call of an api.ts method, `{callId, payload}` -> ApiResult. */
export const channelFor = (method: string): string => `npg:${method}`;
/** main -> renderer: `{callId, event}`, a progress event of a call in flight. */
export const EVENT_CHANNEL = 'npg:event';
/** renderer -> main, send: the call id to abort. */
export const CANCEL_CHANNEL = 'npg:cancel';
/** main -> renderer: `{action}`, an app menu item was chosen. */
export const MENU_CHANNEL = 'npg:menu';
