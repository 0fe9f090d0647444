// Window geometry and chrome, kept out of the shell so it can be tested without Electron.
export function windowOptions() {
  return {
    width: 1360,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    title: 'NodePort Guard',
    backgroundColor: '#0f1419',
    show: true,
    autoHideMenuBar: true,
  } as const;
}
