import type { z } from 'zod';

/** One thing wrong with an input: the field, and a sentence that names it. */
export interface FieldProblem {
  field: string;
  /** A plain sentence, e.g. "temperature must be between 0 and 2". */
  message: string;
}

export interface DescribeOptions {
  /** The schema that failed: number ranges are read from it, so a message states both bounds. */
  schema?: z.ZodType;
  /** Names the input when an issue has no path (the whole body, query or file). Default: "input". */
  where?: string;
  /** Path segments that are wrappers, not fields (the playground's `body`). */
  skip?: readonly PropertyKey[];
  /** How a form shows a field ("Timeout" for `timeout`); the field's key by default. */
  name?: (field: string) => string;
}

type Issue = z.core.$ZodIssue;
interface Bound {
  value: number;
  inclusive: boolean;
}

/** Zod's internals, as far as finding a field's schema and its bounds needs them. */
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      in?: SchemaNode;
      element?: SchemaNode;
      options?: SchemaNode[];
      checks?: Array<{ _zod: { def: { check: string; value?: unknown; inclusive?: boolean } } }>;
    };
  };
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function unwrap(node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  for (let i = 0; current && i < 16; i += 1) {
    const def: SchemaNode['_zod']['def'] = current._zod.def;
    if (WRAPPERS.has(def.type)) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return current;
  }
  return current;
}

/** The schema of the field at `path`, when the path leads through objects, arrays and unions. */
function schemaAt(root: SchemaNode | undefined, path: readonly PropertyKey[]): SchemaNode | undefined {
  const node = unwrap(root);
  if (!node || path.length === 0) return node;
  const [key, ...rest] = path;
  const def: SchemaNode['_zod']['def'] = node._zod.def;
  if (def.type === 'object' && typeof key === 'string') return schemaAt(def.shape?.[key], rest);
  if (def.type === 'array') return schemaAt(def.element, rest);
  if (def.type === 'union') {
    for (const option of def.options ?? []) {
      const found = schemaAt(option, path);
      if (found) return found;
    }
  }
  return undefined;
}

function numberBounds(node: SchemaNode | undefined): { min?: Bound; max?: Bound } {
  const bounds: { min?: Bound; max?: Bound } = {};
  if (node?._zod.def.type !== 'number') return bounds;
  for (const check of node._zod.def.checks ?? []) {
    const { check: kind, value, inclusive } = check._zod.def;
    if (typeof value !== 'number') continue;
    if (kind === 'greater_than') bounds.min = { value, inclusive: inclusive === true };
    if (kind === 'less_than') bounds.max = { value, inclusive: inclusive === true };
  }
  return bounds;
}

function range(min: Bound | undefined, max: Bound | undefined): string {
  if (min && max && min.inclusive && max.inclusive) return `between ${min.value} and ${max.value}`;
  const parts: string[] = [];
  if (min) parts.push(min.inclusive ? `at least ${min.value}` : `above ${min.value}`);
  if (max) parts.push(max.inclusive ? `at most ${max.value}` : `below ${max.value}`);
  return parts.join(' and ');
}

const KINDS: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function listed(values: readonly unknown[]): string {
  return values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(', ');
}

/** Our own schema messages are phrased to follow the field's name ("must be …", "is required"). */
function ownMessage(field: string, message: string): string | null {
  if (message.startsWith(`${field} `)) return message;
  if (/^(must|is|are|should|cannot)\b/.test(message)) return `${field} ${message}`;
  return null;
}

function sentence(issue: Issue, field: string, options: DescribeOptions, path: readonly PropertyKey[]): string {
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const own = /^Too (small|big)/.test(issue.message) ? null : ownMessage(field, issue.message);
      if (own) return own;
      const limit = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        const bounds = options.schema ? numberBounds(schemaAt(options.schema as unknown as SchemaNode, path)) : {};
        const min = issue.code === 'too_small' ? { value: limit, inclusive } : bounds.min;
        const max = issue.code === 'too_big' ? { value: limit, inclusive } : bounds.max;
        return `${field} must be ${range(min, max)}`;
      }
      const unit = issue.origin === 'string' ? 'characters' : 'items';
      if (issue.code === 'too_small' && limit === 1 && inclusive) return `${field} must not be empty`;
      return `${field} must have ${issue.code === 'too_small' ? 'at least' : 'at most'} ${limit} ${unit}`;
    }
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return `${field} is required`;
      return `${field} must be ${KINDS[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `${field} must be ${listed(issue.values)}` : `${field} must be one of ${listed(issue.values)}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `${issue.keys[0]} is not a known field` : `${issue.keys.join(', ')} are not known fields`;
    case 'invalid_union': {
      const options_ = (issue as { options?: unknown[] }).options;
      return Array.isArray(options_) && options_.length > 0 ? `${field} must be one of ${listed(options_)}` : `${field} is not valid`;
    }
    case 'not_multiple_of':
      return `${field} must be a multiple of ${String(issue.divisor)}`;
    default:
      return ownMessage(field, issue.message) ?? `${field} is not valid: ${issue.message}`;
  }
}

/**
 * Every issue of a failed parse as a plain sentence naming its field ("temperature must be
 * between 0 and 2", "alg must be one of origin, maskgit_plus, topk_margin, entropy"). Every edge
 * that validates (HTTP, IPC, the settings file, the renderer's forms) words its errors here.
 */
export function issueSentences(error: z.ZodError, options: DescribeOptions = {}): FieldProblem[] {
  const skip = new Set(options.skip ?? []);
  return error.issues.map((issue) => {
    const path = issue.path.filter((key) => !skip.has(key));
    const field = path.map(String).join('.') || (options.where ?? 'input');
    return { field, message: sentence(issue, options.name?.(field) ?? field, options, issue.path) };
  });
}

/** The first issue's sentence: the one-line message of a failed parse. */
export function validationMessage(error: z.ZodError, options: DescribeOptions = {}): string {
  return issueSentences(error, options)[0]?.message ?? `${options.where ?? 'input'} is not valid`;
}

/**
 * The first sentence for each field of a failed parse, keyed by field: what a form shows next to
 * each input it marks.
 */
export function fieldMessages(error: z.ZodError, options: DescribeOptions = {}): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const { field, message } of issueSentences(error, options)) byField[field] ??= message;
  return byField;
}

/** Levenshtein distance, ignoring case, for "did you mean". Keys are short, so the quadratic table is fine. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The known key closest to `unknown`, when it is close enough to be a typo; `null` otherwise. */
export function nearestKey(unknown: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let distance = Number.POSITIVE_INFINITY;
  for (const key of known) {
    const d = editDistance(unknown, key);
    if (d < distance) {
      best = key;
      distance = d;
    }
  }
  return best !== null && distance <= Math.max(2, Math.floor(unknown.length / 3)) ? best : null;
}
