import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { nearestKey, plainIssue } from '../../../src/shared/plainIssues';

function issueOf(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a failure');
  return result.error.issues[0] as z.core.$ZodIssue;
}

describe('plainIssue', () => {
  it('says each kind of problem as one sentence', () => {
    expect(plainIssue('timeout', issueOf(z.number().positive().max(3600), -3))).toBe('Timeout must be above 0.');
    expect(plainIssue('timeout', issueOf(z.number().positive().max(3600), 4000))).toBe('Timeout must be at most 3600.');
    expect(plainIssue('port', issueOf(z.number().int(), 1.5))).toBe('Port must be a whole number.');
    expect(plainIssue('port', issueOf(z.number(), Number.NaN))).toBe('Port must be a number.');
    expect(plainIssue('API token', issueOf(z.string().min(8), 'abc'))).toBe('API token must be at least 8 characters long.');
    expect(plainIssue('protocol', issueOf(z.enum(['dllm', 'openai']), 'llama'))).toBe('Protocol must be one of "dllm", "openai".');
    expect(
      plainIssue(
        'backend URL',
        issueOf(
          z.string().refine(() => false, 'must be an http:// URL'),
          'x',
        ),
      ),
    ).toBe('Backend URL must be an http:// URL.');
  });
});

describe('nearestKey', () => {
  it('finds the key a typo meant, and nothing for a stranger', () => {
    const known = ['host', 'port', 'backend', 'backendKind', 'timeout'];
    expect(nearestKey('prot', known)).toBe('port');
    expect(nearestKey('backendkind', known)).toBe('backendKind');
    expect(nearestKey('timout', known)).toBe('timeout');
    expect(nearestKey('colour', known)).toBeNull();
  });
});
