/**
 * Validation problems as plain sentences ("Timeout must be at most 3600.") instead of schema
 * text ("Too big: expected number to be <=3600"), for the settings file, the Settings view and
 * the playground. Pure: no zod import, it reads the issue objects zod produces.
 */

/** The parts of a zod issue the sentences use. */
export interface IssueLike {
  code: string;
  message: string;
  path: ReadonlyArray<PropertyKey>;
  expected?: unknown;
  received?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
  origin?: unknown;
  values?: readonly unknown[];
  keys?: readonly string[];
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

function bound(issue: IssueLike, direction: 'min' | 'max'): string {
  const limit = direction === 'min' ? issue.minimum : issue.maximum;
  const strictly = issue.inclusive === false;
  if (issue.origin === 'string') return `${direction === 'min' ? 'at least' : 'at most'} ${String(limit)} characters long`;
  if (issue.origin === 'array') return `${direction === 'min' ? 'at least' : 'at most'} ${String(limit)} items long`;
  if (direction === 'min') return strictly ? `above ${String(limit)}` : `at least ${String(limit)}`;
  return strictly ? `below ${String(limit)}` : `at most ${String(limit)}`;
}

const capital = (text: string): string => text.replace(/^\w/, (c) => c.toUpperCase());
const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

/** One issue as one sentence about `label` (the field's name as the user sees it). */
export function plainIssue(label: string, issue: IssueLike): string {
  switch (issue.code) {
    case 'too_small':
      return `${capital(label)} must be ${bound(issue, 'min')}.`;
    case 'too_big':
      return `${capital(label)} must be ${bound(issue, 'max')}.`;
    case 'invalid_type': {
      const expected = TYPE_WORDS[String(issue.expected)] ?? String(issue.expected);
      if (issue.received === 'NaN' || issue.received === 'undefined' || issue.received === undefined) return `${capital(label)} must be ${expected}.`;
      return `${capital(label)} must be ${expected}, not ${String(issue.received)}.`;
    }
    case 'invalid_value':
    case 'invalid_enum_value':
      return `${capital(label)} must be one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'unrecognized_keys':
      return `Unknown setting${(issue.keys?.length ?? 0) === 1 ? '' : 's'} ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}.`;
    default:
      // Our own refinements already speak in sentences ("must be an http:// or https:// URL").
      return sentence(/^(must|is|should|cannot)\b/.test(issue.message) ? `${capital(label)} ${issue.message}` : `${capital(label)}: ${issue.message}`);
  }
}

/** Levenshtein distance, for "did you mean". Keys are short, so the quadratic table is fine. */
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

/** The known key closest to `unknown`, when it is close enough to be a typo. */
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
