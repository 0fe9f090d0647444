// The web host's admission rules, one by one (web-host.test.ts drives them over real HTTP).
import { describe, expect, it } from 'vitest';
import {
  allowedHosts,
  cookieToken,
  hostAllowed,
  isAuthorized,
  originAllowed,
  sessionCookie,
  tokenMatches,
  tokenProblem,
} from './web-auth.js';

const T = 'a-token-of-20-chars!';

describe('web auth', () => {
  it('wants tokens of at least 16 printable ASCII characters', () => {
    expect(tokenProblem('e2e-token-not-secret')).toBeUndefined();
    expect(tokenProblem('0123456789abcdef')).toBeUndefined();
    expect(tokenProblem('0123456789abcde')).toMatch(/^the token has 15 characters; use at least 16/);
    expect(tokenProblem('')).toMatch(/has 0 characters/);
    expect(tokenProblem('0123456789abcdef ')).toMatch(/printable ASCII/);
    expect(tokenProblem('0123456789abcdefé')).toMatch(/printable ASCII/);
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches(T, T)).toBe(true);
    expect(tokenMatches(T, `${T}x`)).toBe(false);
    expect(tokenMatches(T, T.slice(1))).toBe(false);
    expect(tokenMatches(T, '')).toBe(false);
    expect(tokenMatches(T, null)).toBe(false);
    expect(tokenMatches(T, undefined)).toBe(false);
  });

  it('reads its cookie back from a Cookie header, whatever else it holds', () => {
    const set = sessionCookie(T);
    expect(set).toBe('npg_token=a-token-of-20-chars!; HttpOnly; SameSite=Strict; Path=/');
    const value = set.split(';')[0]!;
    expect(cookieToken(value)).toBe(T);
    expect(cookieToken(`theme=dark; ${value}; other=1`)).toBe(T);
    expect(cookieToken('npg_token_x=1; xnpg_token=2')).toBeUndefined();
    expect(cookieToken('npg_token=%E0%A4%A')).toBeUndefined();
    expect(cookieToken(undefined)).toBeUndefined();
    expect(sessionCookie('semi;colon=and,comma-1234')).toMatch(/^npg_token=semi%3Bcolon%3Dand%2Ccomma-1234;/);
    expect(cookieToken(sessionCookie('semi;colon=and,comma-1234').split('; ')[0])).toBe(
      'semi;colon=and,comma-1234',
    );
  });

  it('accepts the token from the query or the cookie', () => {
    expect(isAuthorized(T, T, undefined)).toBe(true);
    expect(isAuthorized(T, '', `npg_token=${T}`)).toBe(true);
    expect(isAuthorized(T, 'wrong', `npg_token=${T}`)).toBe(true);
    expect(isAuthorized(T, null, undefined)).toBe(false);
    expect(isAuthorized(T, 'wrong', 'npg_token=wrong')).toBe(false);
  });

  it('accepts only our own Host and Origin', () => {
    const v4 = allowedHosts('127.0.0.1', 4517);
    expect(v4).toEqual(['127.0.0.1:4517', 'localhost:4517']);
    expect(allowedHosts('::1', 4517)).toContain('[::1]:4517');
    expect(hostAllowed('127.0.0.1:4517', v4)).toBe(true);
    expect(hostAllowed('localhost:4517', v4)).toBe(true);
    for (const h of [
      undefined,
      '',
      '127.0.0.1',
      '127.0.0.1:4518',
      'evil.example:4517',
      '[::1]:4517',
      'LOCALHOST:4517x',
    ]) {
      expect(hostAllowed(h, v4), String(h)).toBe(false);
    }
    expect(originAllowed(undefined, v4)).toBe(true);
    expect(originAllowed('http://127.0.0.1:4517', v4)).toBe(true);
    expect(originAllowed('http://localhost:4517', v4)).toBe(true);
    for (const o of ['null', '', 'https://127.0.0.1:4517', 'http://127.0.0.1:4517/', 'http://evil.example']) {
      expect(originAllowed(o, v4), o).toBe(false);
    }
  });
});
