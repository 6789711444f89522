import { malformedError } from './upstreamErrors';
import type { UpstreamHttp } from './upstreamHttp';

/** Keys under which model lists name a model, in the order we trust them. */
const NAME_KEYS = ['id', 'model_id', 'name', 'model'] as const;

function modelName(entry: unknown): string | null {
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null) return null;
  const record = entry as Record<string, unknown>;
  for (const key of NAME_KEYS) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

/**
 * Reads a model list in any shape model servers use: `{models: [...]}`, `{data: [...]}` (OpenAI)
 * or a bare array, whose entries are names or objects naming the model by `id`, `model_id`,
 * `name` or `model`. Returns null when the body is none of these; duplicates are dropped.
 */
export function parseModelList(json: unknown): string[] | null {
  let entries: unknown;
  if (Array.isArray(json)) entries = json;
  else if (typeof json === 'object' && json !== null) {
    const record = json as Record<string, unknown>;
    entries = Array.isArray(record.models) ? record.models : record.data;
  }
  if (!Array.isArray(entries)) return null;
  const names = new Set<string>();
  for (const entry of entries) {
    const name = modelName(entry);
    if (name !== null) names.add(name);
  }
  return [...names];
}

/** GETs a model list from `path` and reads it with `parseModelList`; an unknown shape is a `backend` error. */
export async function fetchModelList(http: UpstreamHttp, path: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<string[]> {
  const exchange = await http.open({ method: 'GET', path, accept: 'application/json', signal, timeoutMs });
  if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError();
  const json = await exchange.json();
  const models = parseModelList(json);
  if (models === null) throw malformedError('a model list in an unknown shape', exchange.url, JSON.stringify(json));
  return models;
}
