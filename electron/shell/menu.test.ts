import { describe, expect, it } from 'vitest';
import { isMenuMessage, type MenuAction, type MenuItemSpec, menuTemplate } from './menu.js';

function top(template: MenuItemSpec[], label: string): MenuItemSpec {
  const m = template.find((t) => t.label === label);
  if (!m) throw new Error(`no ${label} menu`);
  return m;
}

const roles = (m: MenuItemSpec) => (m.submenu ?? []).map((i) => i.role ?? i.label ?? i.type);

describe('app menu template', () => {
  it('has File, Edit, View, Window, Help in that order (plus the app menu on macOS)', () => {
    const linux = menuTemplate({ isMac: false, packaged: true, onAction: () => {} });
    expect(linux.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
    const mac = menuTemplate({ isMac: true, packaged: true, onAction: () => {} });
    expect(mac.map((m) => m.label ?? m.role)).toEqual(['appMenu', 'File', 'Edit', 'View', 'Window', 'Help']);
    expect(top(mac, 'Window').role).toBe('windowMenu');
  });

  it('File: Open workspace… (CmdOrCtrl+O) sends open-workspace; Quit (Close on macOS)', () => {
    const actions: MenuAction[] = [];
    const t = menuTemplate({ isMac: false, packaged: true, onAction: (a) => actions.push(a) });
    const file = top(t, 'File');
    const open = file.submenu![0]!;
    expect(open).toMatchObject({ label: 'Open workspace…', accelerator: 'CmdOrCtrl+O' });
    open.click!();
    expect(actions).toEqual(['open-workspace']);
    expect(roles(file)).toEqual(['Open workspace…', 'separator', 'quit']);
    const mac = menuTemplate({ isMac: true, packaged: true, onAction: () => {} });
    expect(roles(top(mac, 'File'))).toEqual(['Open workspace…', 'separator', 'close']);
  });

  it('Edit has the standard editing roles', () => {
    const t = menuTemplate({ isMac: false, packaged: true, onAction: () => {} });
    expect(roles(top(t, 'Edit'))).toEqual(['undo', 'redo', 'separator', 'cut', 'copy', 'paste', 'selectAll']);
  });

  it('View: reload and DevTools only in an unpackaged (development) build', () => {
    const dev = menuTemplate({ isMac: false, packaged: false, onAction: () => {} });
    expect(roles(top(dev, 'View'))).toEqual([
      'reload',
      'toggleDevTools',
      'separator',
      'resetZoom',
      'zoomIn',
      'zoomOut',
      'separator',
      'togglefullscreen',
    ]);
    for (const isMac of [false, true]) {
      const shipped = menuTemplate({ isMac, packaged: true, onAction: () => {} });
      const all = JSON.stringify(shipped);
      expect(all).not.toContain('reload');
      expect(all).not.toContain('toggleDevTools');
      expect(roles(top(shipped, 'View'))).toEqual([
        'resetZoom',
        'zoomIn',
        'zoomOut',
        'separator',
        'togglefullscreen',
      ]);
    }
  });

  it('Help: Keyboard shortcuts sends shortcuts', () => {
    const actions: MenuAction[] = [];
    const t = menuTemplate({ isMac: true, packaged: true, onAction: (a) => actions.push(a) });
    const help = top(t, 'Help');
    expect(help.role).toBe('help');
    const item = help.submenu!.find((i) => i.label === 'Keyboard shortcuts')!;
    item.click!();
    expect(actions).toEqual(['shortcuts']);
  });

  it('menu messages are validated on the renderer side', () => {
    expect(isMenuMessage({ action: 'open-workspace' })).toBe(true);
    expect(isMenuMessage({ action: 'shortcuts' })).toBe(true);
    expect(isMenuMessage({ action: 'quit' })).toBe(false);
    expect(isMenuMessage('shortcuts')).toBe(false);
    expect(isMenuMessage(null)).toBe(false);
  });
});
