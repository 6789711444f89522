import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EditableSettingsSchema, EventsQuerySchema, RunRequestSchema } from '../../../src/shared/apiSchemas';
import { GenerateBodySchema } from '../../../src/shared/requests';
import { issueSentences, validationMessage } from '../../../src/shared/validation';

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
    expect(problems(EditableSettingsSchema.partial(), { token: 'short' })).toEqual(['token must be at least 8 characters']);
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
