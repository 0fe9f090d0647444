// Window geometry and chrome, kept out of the shell so it can be tested without Electron.

/** The UI brief's smallest supported window. */
export const MIN_WINDOW = { width: 1280, height: 800 } as const;

/** Painted before the first frame, so the window does not flash white in a dark theme. */
export const BACKGROUND = { dark: '#0f1419', light: '#f6f8fa' } as const;

/** `dark`: nativeTheme.shouldUseDarkColors, passed in by the shell. */
export function windowOptions(opts: { readonly dark: boolean }) {
  return {
    width: 1440,
    height: 900,
    minWidth: MIN_WINDOW.width,
    minHeight: MIN_WINDOW.height,
    title: 'NodePort Guard',
    backgroundColor: opts.dark ? BACKGROUND.dark : BACKGROUND.light,
    show: true,
    autoHideMenuBar: false,
  } as const;
}
