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

/**
 * An IPC message is accepted only from our own page: the sender frame is the window's top frame
 * (not an iframe) and it shows our bundle. Pass the frame's URL, or undefined when Electron no
 * longer knows the frame (it navigated away or was destroyed before the message was handled).
 */
export function isTrustedSender(
  sender: { readonly frameUrl: string | undefined; readonly isTopFrame: boolean },
  appUrl: string,
): boolean {
  return sender.isTopFrame && sender.frameUrl !== undefined && isAllowedNavigation(sender.frameUrl, appUrl);
}

/** The only places a link in the app may open (in the user's browser, never in the app). */
const EXTERNAL_LINK_PREFIXES = ['https://kubernetes.io/', 'https://github.com/'] as const;

/**
 * The URL to hand to shell.openExternal, or undefined to refuse: https only, on an allow-listed
 * host, no credentials, no port. Decided on the parsed and normalised URL, so tricks such as
 * `https://github.com.evil.example/`, `https://x@github.com/` or backslashes cannot pass.
 */
export function externalLinkTarget(url: string): string | undefined {
  if (typeof url !== 'string' || url.length > 2048) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' || u.username !== '' || u.password !== '' || u.port !== '') return undefined;
  return EXTERNAL_LINK_PREFIXES.some((prefix) => u.href.startsWith(prefix)) ? u.href : undefined;
}

export function externalLinkAllowed(url: string): boolean {
  return externalLinkTarget(url) !== undefined;
}

/**
 * Response headers for a response of our bundle in the Electron window: the given headers with
 * any Content-Security-Policy the response carried replaced by ours, plus nosniff. Returns the
 * headers unchanged for anything but file: URLs (DevTools and the like keep their own policies).
 */
export function withCspHeaders(
  url: string,
  headers: Record<string, string | string[]> | undefined,
  csp: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    out[name] = Array.isArray(value) ? value : [value];
  if (!url.startsWith('file:')) return out;
  for (const name of Object.keys(out)) {
    const lower = name.toLowerCase();
    if (lower === 'content-security-policy' || lower === 'x-content-type-options') delete out[name];
  }
  out['Content-Security-Policy'] = [csp];
  out['X-Content-Type-Options'] = ['nosniff'];
  return out;
}
