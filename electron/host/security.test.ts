import { describe, expect, it } from 'vitest';
import { windowOptions } from '../window-options.js';
import { contentSecurityPolicy, isAllowedNavigation, secureWebPreferences } from './security.js';

describe('security settings', () => {
  it('keeps Node out of the renderer and isolates the preload', () => {
    const p = secureWebPreferences('/app/preload.cjs');
    expect(p).toMatchObject({
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
    });
    expect(p.preload).toBe('/app/preload.cjs');
  });

  it('CSP allows only our own scripts and, for the web host, loopback WebSockets', () => {
    const web = contentSecurityPolicy({ allowWebSocket: true });
    expect(web).toContain("script-src 'self'");
    expect(web).toContain("default-src 'none'");
    expect(web).toContain('ws://127.0.0.1:*');
    expect(web).not.toMatch(/unsafe-eval/);
    expect(contentSecurityPolicy({ allowWebSocket: false })).toContain("connect-src 'none'");
  });

  it('refuses navigation away from the app bundle', () => {
    const app = 'file:///opt/npg/renderer/index.html';
    expect(isAllowedNavigation(app, app)).toBe(true);
    expect(isAllowedNavigation('https://example.com/', app)).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', app)).toBe(false);
    expect(isAllowedNavigation('not a url', app)).toBe(false);
  });

  it('window is usable on a laptop screen', () => {
    const w = windowOptions();
    expect(w.minWidth).toBeLessThanOrEqual(1024);
    expect(w.width).toBeGreaterThanOrEqual(w.minWidth);
    expect(w.title).toBe('NodePort Guard');
  });
});
