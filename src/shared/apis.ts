/**
 * The doors a measured request can come through, stored as `metadata.api`: our own
 * `/api/diffusion/*` routes, and the OpenAI-compatible and llama.cpp front door.
 */
export const API_NAMES = ['diffusion', 'openai_chat', 'openai_completions', 'fim', 'llamacpp_infill'] as const;
export type ApiName = (typeof API_NAMES)[number];

/** Rows written before the front door existed came through our own routes. */
export const DEFAULT_API: ApiName = 'diffusion';

/** The label for a stored `metadata.api`: one of ours, `diffusion` when absent, `other` for anything else. */
export function apiLabelOf(value: unknown): ApiName | 'other' {
  if (value === undefined || value === null) return DEFAULT_API;
  return (API_NAMES as readonly unknown[]).includes(value) ? (value as ApiName) : 'other';
}
