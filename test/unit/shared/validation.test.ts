import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EditableSettingsSchema, EventsQuerySchema, RunRequestSchema } from '../../../src/shared/apiSchemas';
import { GenerateBodySchema } from '../../../src/shared/requests';
import { fieldMessages, issueSentences, nearestKey, validationMessage } from '../../../src/shared/validation';

function problems(schema: z.ZodType, value: unknown, where?: string): string[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected a failure');
  return issueSentences(parsed.error, { schema, ...(where ? { where } : {}) }).map((p) => p.message);
}

describe('validation messages', () => {
  it('state both bounds of a number range, naming the field', () => {
    expect(problems(GenerateBodySchema, { prompt: 'x', temperature: 5 })).toEqual(['temperature must be between 0 and 2']);
    expect(problems(GenerateBodySchema, { prompt: 'x', temperature: -1 })).toEqual(['temperature must be between 0 and 2']);
    expect(problems(GenerateBodySchema, { prompt: 'x', top_p: 0 })).toEqual(['top_p must be above 0 and at most 1']);
    expect(problems(GenerateBodySchema, { prompt: 'x', max_new_tokens: 10_000 })).toEqual(['max_new_tokens must be between 1 and 8192']);
    expect(problems(EditableSettingsSchema.partial(), { timeout: 0 })).toEqual(['timeout must be above 0 and at most 3600']);
  });

  it('words types, choices, unknown and missing fields, and our own rule messages', () => {
    expect(problems(GenerateBodySchema, { prompt: 'x', steps: 2.5 })).toEqual(['steps must be a whole number']);
    expect(problems(GenerateBodySchema, { prompt: 'x', temperature: 'hot' })).toEqual(['temperature must be a number']);
    expect(problems(GenerateBodySchema, { prompt: 'x', alg: 'magic' })).toEqual(['alg must be one of origin, maskgit_plus, topk_margin, entropy']);
    expect(problems(GenerateBodySchema, { prompt: 'x', nope: 1 })).toEqual(['nope is not a known field']);
    expect(problems(GenerateBodySchema, {})).toEqual(['prompt is required']);
    expect(problems(GenerateBodySchema, 'text', 'body')).toEqual(['body must be an object']);
    expect(problems(EditableSettingsSchema.partial(), { token: 'short' })).toEqual(['token must be at least 16 characters']);
    expect(problems(EditableSettingsSchema.partial(), { backend: 'ftp://x' })).toEqual([
      'backend must be an http:// or https:// URL, e.g. http://127.0.0.1:8000',
    ]);
    expect(problems(EventsQuerySchema, { limit: 0 })).toEqual(['limit must be between 1 and 500']);
  });

  it('leaves wrapper segments out of the field name and still finds the bounds', () => {
    const parsed = RunRequestSchema.safeParse({ mode: 'generate', body: { prompt: 'x', temperature: 3 } });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(issueSentences(parsed.error, { schema: RunRequestSchema, skip: ['body'] })).toEqual([
      { field: 'temperature', message: 'temperature must be between 0 and 2' },
    ]);
    expect(validationMessage(parsed.error, { schema: RunRequestSchema, skip: ['body'] })).toBe('temperature must be between 0 and 2');
  });
});

describe('form messages', () => {
  it('words each kind of problem with the label a form shows, one sentence per field', () => {
    const schema = z.object({
      timeout: z.number().positive().max(3600),
      port: z.number().int().min(0).max(65535),
      token: z.string().min(8),
      kind: z.enum(['dllm', 'openai']),
      backend: z.string().refine(() => false, 'must be an http:// URL'),
    });
    const parsed = schema.safeParse({ timeout: -3, port: 1.5, token: 'abc', kind: 'llama', backend: 'x' });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const labels: Record<string, string> = { timeout: 'Timeout', port: 'Port', token: 'API token', kind: 'Protocol', backend: 'Backend URL' };
    expect(fieldMessages(parsed.error, { schema, name: (field) => labels[field] ?? field })).toEqual({
      timeout: 'Timeout must be above 0 and at most 3600',
      port: 'Port must be a whole number',
      token: 'API token must have at least 8 characters',
      kind: 'Protocol must be one of dllm, openai',
      backend: 'Backend URL must be an http:// URL',
    });
  });

  it('keeps the first problem of a field that has several', () => {
    const schema = z.object({
      token: z
        .string()
        .min(8)
        .regex(/^[a-z]+$/, 'must be lower-case letters'),
    });
    const parsed = schema.safeParse({ token: 'AB' });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(issueSentences(parsed.error, { schema })).toHaveLength(2);
    expect(fieldMessages(parsed.error, { schema })).toEqual({ token: 'token must have at least 8 characters' });
  });

  it('says NaN is not a number', () => {
    expect(problems(z.object({ port: z.number() }), { port: Number.NaN })).toEqual(['port must be a number']);
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
