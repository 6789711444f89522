import { z } from 'zod';

/** Bounds on every request field; the routes answer 400 naming the field outside them. */
export const LIMITS = {
  textChars: 200_000,
  maxNewTokens: 8192,
  steps: 4096,
  modelId: /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/,
  userId: 128,
  stopSequences: 16,
  stopChars: 200,
} as const;

export const ALGORITHMS = ['origin', 'maskgit_plus', 'topk_margin', 'entropy'] as const;

/** Defaults from the seed's example metadata. */
export const DEFAULTS = { max_new_tokens: 64, temperature: 0.2, top_p: 0.9, alg: 'entropy' } as const;

const options = {
  model_id: z.string().regex(LIMITS.modelId, 'must be 1-200 characters of letters, digits and ._:/@+-').optional(),
  max_new_tokens: z.number().int().min(1).max(LIMITS.maxNewTokens).optional(),
  max_length: z.number().int().min(1).max(LIMITS.maxNewTokens).optional(),
  steps: z.number().int().min(1).max(LIMITS.steps).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(0).max(100_000).optional(),
  alg: z.enum(ALGORITHMS).optional(),
  alg_temp: z.number().min(0).max(10).optional(),
  user_id: z.string().min(1).max(LIMITS.userId).optional(),
  stop: z.union([z.string().max(LIMITS.stopChars), z.array(z.string().max(LIMITS.stopChars)).max(LIMITS.stopSequences)]).optional(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
};

const text = z.string().max(LIMITS.textChars, `must be at most ${LIMITS.textChars} characters`);

/** The body of `POST /api/diffusion/generate[/stream]` as sent (aliases accepted). */
export const GenerateBodySchema = z
  .object({ prompt: text.min(1, 'must not be empty').optional(), text: text.min(1, 'must not be empty').optional(), ...options })
  .strict()
  .refine((b) => b.prompt !== undefined || b.text !== undefined, { message: 'prompt is required', path: ['prompt'] });

/** The body of `POST /api/diffusion/infill[/stream]`. */
export const InfillBodySchema = z
  .object({ prefix: text, suffix: text, ...options })
  .strict()
  .refine((b) => b.prefix.length + b.suffix.length > 0, { message: 'prefix and suffix must not both be empty', path: ['prefix'] });

/** Generation options after defaults are applied: what the backend client receives. */
export interface GenerationOptions {
  model_id: string | null;
  max_new_tokens: number;
  steps: number | null;
  temperature: number;
  top_p: number;
  top_k: number | null;
  alg: (typeof ALGORITHMS)[number];
  alg_temp: number | null;
  user_id: string;
  /** Sequences that end the answer (cut before them); null for none. */
  stop: string[] | null;
  /** Sampling seed, for backends that take one; null lets the backend choose. */
  seed: number | null;
}

/** A chat message as a client sent it (OpenAI's shape); kept whole for backends that speak chat. */
export type ChatMessage = Readonly<Record<string, unknown>> & { readonly role: string };

export type GenerateRequest = {
  kind: 'generate';
  /** The prompt; for a chat request, its messages rendered into one text. */
  prompt: string;
  /** A chat request's messages, unchanged, for backends that speak OpenAI chat. */
  messages?: readonly ChatMessage[];
} & GenerationOptions;
export type InfillRequest = { kind: 'infill'; prefix: string; suffix: string } & GenerationOptions;
export type DiffusionRequest = GenerateRequest | InfillRequest;

type OptionFields = { [K in keyof typeof options]?: z.infer<(typeof options)[K]> };

/** `stop` as a list without empty sequences; null when there is none. */
export function stopSequences(stop: string | readonly string[] | null | undefined): string[] | null {
  if (stop === undefined || stop === null) return null;
  const list = (typeof stop === 'string' ? [stop] : [...stop]).filter((sequence) => sequence !== '');
  return list.length === 0 ? null : list;
}

function normaliseOptions(body: OptionFields): GenerationOptions {
  return {
    model_id: body.model_id ?? null,
    max_new_tokens: body.max_new_tokens ?? body.max_length ?? DEFAULTS.max_new_tokens,
    steps: body.steps ?? null,
    temperature: body.temperature ?? DEFAULTS.temperature,
    top_p: body.top_p ?? DEFAULTS.top_p,
    top_k: body.top_k ?? null,
    alg: body.alg ?? DEFAULTS.alg,
    alg_temp: body.alg_temp ?? null,
    user_id: body.user_id ?? 'anonymous',
    stop: stopSequences(body.stop),
    seed: body.seed ?? null,
  };
}

export function toGenerateRequest(body: z.infer<typeof GenerateBodySchema>): GenerateRequest {
  return { kind: 'generate', prompt: (body.prompt ?? body.text) as string, ...normaliseOptions(body) };
}

export function toInfillRequest(body: z.infer<typeof InfillBodySchema>): InfillRequest {
  return { kind: 'infill', prefix: body.prefix, suffix: body.suffix, ...normaliseOptions(body) };
}

/** Non-stream answer of generate and infill. */
export interface GenerateResponse {
  text: string;
  model_id: string;
  generation_time: number;
  token_count: number;
  steps: number | null;
  request_id: string;
}
