import type { z } from 'zod';

/** A JSON value's kind as a diagnostic names it: `string`, `number`, `array`, `null`, … */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Names what made an upstream answer unusable, field first: "field `text` is missing" or
 * "field `step` must be number (got string)". Never quotes the value itself, which may be
 * generated text; the caller adds a bounded excerpt of what arrived.
 */
export function describeIssue(error: z.ZodError, input: unknown): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'an unknown shape';
  const field = issue.path.map(String).join('.');
  if (field === '') {
    const kind = kindOf(input);
    return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} where an object was expected`;
  }
  const value = valueAt(input, issue.path);
  if (value === undefined) return `field \`${field}\` is missing`;
  const expected = issue.code === 'invalid_type' ? issue.expected : issue.message;
  return `field \`${field}\` must be ${expected} (got ${kindOf(value)})`;
}
