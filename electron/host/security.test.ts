import { describe, expect, it } from 'vitest';
import { windowOptions } from '../window-options.js';
import {
  contentSecurityPolicy,
  externalLinkAllowed,
  externalLinkTarget,
  isAllowedNavigation,
  isTrustedSender,
  secureWebPreferences,
  withCspHeaders,
} from './security.js';

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

  it('refuses a redirect or navigation to a sibling file or another scheme', () => {
    const app = 'file:///opt/npg/renderer/index.html';
    expect(isAllowedNavigation(`${app}#/policy`, app)).toBe(true);
    expect(isAllowedNavigation('file:///opt/npg/renderer/other.html', app)).toBe(false);
    expect(isAllowedNavigation('javascript:alert(1)', app)).toBe(false);
    expect(isAllowedNavigation('data:text/html,<script>1</script>', app)).toBe(false);
  });

  it('trusts IPC only from the top frame showing our bundle', () => {
    const app = 'file:///opt/npg/renderer/index.html';
    expect(isTrustedSender({ frameUrl: app, isTopFrame: true }, app)).toBe(true);
    expect(isTrustedSender({ frameUrl: app, isTopFrame: false }, app)).toBe(false);
    expect(isTrustedSender({ frameUrl: 'https://evil.example/', isTopFrame: true }, app)).toBe(false);
    expect(isTrustedSender({ frameUrl: undefined, isTopFrame: true }, app)).toBe(false);
    expect(isTrustedSender({ frameUrl: '', isTopFrame: true }, app)).toBe(false);
  });

  it('opens externally only https links under kubernetes.io and github.com', () => {
    expect(externalLinkAllowed('https://kubernetes.io/docs/concepts/services-networking/service/')).toBe(
      true,
    );
    expect(externalLinkAllowed('https://github.com/kubernetes/kubernetes/issues/1')).toBe(true);
    expect(externalLinkTarget('https://github.com')).toBe('https://github.com/');
    for (const url of [
      'http://kubernetes.io/',
      'http://github.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'javascript://github.com/%0aalert(1)',
      'data:text/html,hi',
      'https://github.com.evil.example/',
      'https://evil.example/https://github.com/',
      'https://user:pw@github.com/',
      'https://x@github.com/',
      'https://github.com:8443/',
      'https://gist.github.com/',
      'https://www.kubernetes.io/',
      'https://kubernetes.io.evil.example/',
      'https:\\evil.example\\github.com/',
      'smb://github.com/',
      'not a url',
      '',
      `https://github.com/${'a'.repeat(3000)}`,
    ]) {
      expect(externalLinkAllowed(url), url).toBe(false);
    }
  });

  it('puts our CSP on file: responses, replacing any other, and leaves other schemes alone', () => {
    const csp = contentSecurityPolicy({ allowWebSocket: false });
    const h = withCspHeaders(
      'file:///opt/npg/renderer/index.html',
      { 'content-security-policy': ['default-src *'], 'Content-Type': 'text/html' },
      csp,
    );
    expect(h).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [csp],
      'X-Content-Type-Options': ['nosniff'],
    });
    expect(withCspHeaders('file:///x.js', undefined, csp)['Content-Security-Policy']).toEqual([csp]);
    const devtools = { 'Content-Security-Policy': ["script-src 'self' 'unsafe-eval'"] };
    expect(withCspHeaders('devtools://devtools/bundled/index.html', devtools, csp)).toEqual(devtools);
  });

  it('window: at least the smallest window of the UI brief, background following the OS theme', () => {
    const dark = windowOptions({ dark: true });
    const light = windowOptions({ dark: false });
    expect(dark.minWidth).toBe(1280);
    expect(dark.minHeight).toBe(800);
    expect(dark.width).toBeGreaterThanOrEqual(dark.minWidth);
    expect(dark.height).toBeGreaterThanOrEqual(dark.minHeight);
    expect(dark.title).toBe('NodePort Guard');
    expect(dark.backgroundColor).not.toBe(light.backgroundColor);
    expect(dark.backgroundColor).toBe('#0f1419');
  });
});
