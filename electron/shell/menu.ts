// The application menu as data: standard roles plus two app actions that main.ts forwards to the
// renderer on the `npg:menu` channel. Pure (no Electron import), so the template is unit-tested;
// the item type is the subset of Electron's MenuItemConstructorOptions we use. The channel is
// MENU_CHANNEL (channels.ts).

export const menuActions = ['open-workspace', 'shortcuts'] as const;
export type MenuAction = (typeof menuActions)[number];

/** What the renderer receives on `npg:menu`. */
export interface MenuMessage {
  readonly action: MenuAction;
}

export function isMenuMessage(x: unknown): x is MenuMessage {
  if (typeof x !== 'object' || x === null) return false;
  const action = (x as { action?: unknown }).action;
  return typeof action === 'string' && (menuActions as readonly string[]).includes(action);
}

export type MenuRole =
  | 'appMenu'
  | 'close'
  | 'copy'
  | 'cut'
  | 'paste'
  | 'quit'
  | 'redo'
  | 'reload'
  | 'resetZoom'
  | 'selectAll'
  | 'toggleDevTools'
  | 'togglefullscreen'
  | 'undo'
  | 'windowMenu'
  | 'zoomIn'
  | 'zoomOut'
  | 'help';

export interface MenuItemSpec {
  readonly label?: string;
  readonly role?: MenuRole;
  readonly type?: 'separator';
  readonly accelerator?: string;
  readonly submenu?: MenuItemSpec[];
  readonly click?: () => void;
}

const separator: MenuItemSpec = { type: 'separator' };

export function menuTemplate(opts: {
  readonly isMac: boolean;
  /** app.isPackaged: a shipped build has no reload and no DevTools in its menu. */
  readonly packaged: boolean;
  /** Called with the action of an app item; main.ts sends it to the window's renderer. */
  readonly onAction: (action: MenuAction) => void;
}): MenuItemSpec[] {
  const { isMac, packaged, onAction } = opts;
  const file: MenuItemSpec = {
    label: 'File',
    submenu: [
      { label: 'Open workspace…', accelerator: 'CmdOrCtrl+O', click: () => onAction('open-workspace') },
      separator,
      // On macOS Quit lives in the app menu; the File menu closes the window instead.
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const edit: MenuItemSpec = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const view: MenuItemSpec = {
    label: 'View',
    submenu: [
      ...(packaged ? [] : [{ role: 'reload' } as const, { role: 'toggleDevTools' } as const, separator]),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
    ],
  };
  const help: MenuItemSpec = {
    label: 'Help',
    role: 'help',
    submenu: [{ label: 'Keyboard shortcuts', click: () => onAction('shortcuts') }],
  };
  return [
    ...(isMac ? [{ role: 'appMenu' } as const] : []),
    file,
    edit,
    view,
    { label: 'Window', role: 'windowMenu' },
    help,
  ];
}
