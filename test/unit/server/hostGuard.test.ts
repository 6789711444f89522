import { describe, expect, it } from 'vitest';
import { bearerCredentials, createHostCheck, createTokenCheck, hostnameOf, targetAuthority } from '../../../src/main/server/hostGuard';

describe('hostnameOf', () => {
  it.each([
    ['localhost:7000', 'localhost'],
    ['127.0.0.1:7000', '127.0.0.1'],
    ['[::1]:7000', '[::1]'],
    ['Example.COM', 'example.com'],
  ])('%s → %s', (header, name) => expect(hostnameOf(header)).toBe(name));
});

describe('createHostCheck (DNS-rebinding defence)', () => {
  const check = createHostCheck({ host: '127.0.0.1', allowedHosts: ['monitor.local'], token: null });

  it('accepts loopback names and allowed names', () => {
    for (const host of ['localhost:7000', '127.0.0.1:7000', '127.0.0.2', '[::1]:7000', 'monitor.local:7000']) expect(check(host)).toBe(true);
  });

  it('refuses foreign names and a missing Host', () => {
    for (const host of ['evil.example:7000', 'localhost.evil.example', '192.168.1.5:7000', '', undefined]) expect(check(host)).toBe(false);
  });

  it('accepts any name when listening everywhere behind a token', () => {
    expect(createHostCheck({ host: '0.0.0.0', allowedHosts: [], token: 't' })('10.0.0.5:7000')).toBe(true);
  });
});

describe('createTokenCheck', () => {
  it('passes everything without a token', () => expect(createTokenCheck(null)(undefined)).toBe(true));
  it('needs the exact bearer token', () => {
    const check = createTokenCheck('s3cret');
    expect(check('Bearer s3cret')).toBe(true);
    expect(check('Bearer s3cre')).toBe(false);
    expect(check('Bearer s3cretX')).toBe(false);
    expect(check(undefined)).toBe(false);
  });
});

describe('bearerCredentials and targetAuthority', () => {
  it('reads the Bearer scheme in any case, with any run of spaces', () => {
    expect(bearerCredentials('bearer abc')).toBe('abc');
    expect(bearerCredentials('BEARER   abc')).toBe('abc');
    expect(bearerCredentials('Basic abc')).toBeNull();
    expect(bearerCredentials('Bearer')).toBeNull();
    expect(createTokenCheck('s3cret')('bEaReR s3cret')).toBe(true);
  });
  it('finds the authority of an absolute-form target, nothing for a path, null for nonsense', () => {
    expect(targetAuthority('http://evil.com/api')).toBe('evil.com');
    expect(targetAuthority('http://127.0.0.1:7000/x')).toBe('127.0.0.1:7000');
    expect(targetAuthority('/api/diffusion/health')).toBeUndefined();
    expect(targetAuthority('ftp://x/y')).toBeNull();
    expect(targetAuthority('not a url')).toBeNull();
  });
});
