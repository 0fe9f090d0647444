// Who may talk to the loopback web host, as pure functions so each rule is unit-tested apart from
// the server. Binding to loopback is not enough: any web page the user opens can send requests to
// 127.0.0.1 (so every request needs the per-run token), and a DNS-rebinding page can make its own
// hostname resolve to 127.0.0.1 (so the Host and Origin headers must name us exactly).
import { createHash, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'npg_token';
export const MIN_TOKEN_LENGTH = 16;

/** Why a token may not protect the host, or undefined when it may. One line. */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) {
    return `the token has ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (or leave it unset for a random one)`;
  }
  // It travels in a URL and a cookie; anything else would need quoting in one of them.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    return 'the token may only hold printable ASCII characters without spaces';
  }
  return undefined;
}

/**
 * Constant-time comparison. Hashing first makes both sides the same length, so not even the
 * token's length leaks through timing.
 */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (given === null || given === undefined || given === '') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** The value of our cookie in a Cookie header, if any. */
export function cookieToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined; // a malformed cookie is simply no token
    }
  }
  return undefined;
}

/** The Set-Cookie value a first visit with the right token receives. */
export function sessionCookie(token: string): string {
  // HttpOnly: page scripts never need it. SameSite=Strict: other sites' requests do not carry it.
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/** True when the query token or the cookie carries the expected token. */
export function isAuthorized(
  expected: string,
  queryToken: string | null,
  cookieHeader: string | undefined,
): boolean {
  return tokenMatches(expected, queryToken) || tokenMatches(expected, cookieToken(cookieHeader));
}

/** The Host header values a request to this server may carry. */
export function allowedHosts(bound: '127.0.0.1' | '::1', port: number): string[] {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (bound === '::1') hosts.push(`[::1]:${port}`);
  return hosts;
}

/** The Host header must name us exactly: a rebound DNS name would show up here. */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  return hostHeader !== undefined && allowed.includes(hostHeader);
}

/** Browsers send Origin on cross-origin and WebSocket requests; when present it must be us. */
export function originAllowed(originHeader: string | undefined, allowed: readonly string[]): boolean {
  return originHeader === undefined || allowed.some((h) => originHeader === `http://${h}`);
}
