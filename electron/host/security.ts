// Security settings shared by the Electron window and the web host, pulled out of the shells so
// they are unit-tested.

export function contentSecurityPolicy(opts: { allowWebSocket: boolean }): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    // Chromium rejects IPv6 literals in CSP sources; the web host binds 127.0.0.1 ('self' covers ws: in CSP 3).
    `connect-src ${opts.allowWebSocket ? "'self' ws://127.0.0.1:*" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** BrowserWindow webPreferences: no Node in the renderer, isolated preload, sandboxed. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    nodeIntegration: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    spellcheck: false,
  } as const;
}

/** Only our own bundle may be shown; everything else (links, redirects) is refused. */
export function isAllowedNavigation(url: string, appUrl: string): boolean {
  try {
    const u = new URL(url);
    const app = new URL(appUrl);
    return u.protocol === app.protocol && u.host === app.host && u.pathname === app.pathname;
  } catch {
    return false;
  }
}
