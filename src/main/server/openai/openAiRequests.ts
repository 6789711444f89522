import { z } from 'zod';
import { DiffusionError } from '../../../shared/errors';
import { ALGORITHMS, DEFAULTS, LIMITS, stopSequences, type ChatMessage, type DiffusionRequest, type GenerationOptions } from '../../../shared/requests';
import { validationError } from '../errorReplies';
import { recogniseFimTemplate, type FimTemplateName } from './fimTemplates';

/**
 * Readers of what editors and tools send to the OpenAI-compatible routes. Liberal: unknown fields
 * (`frequency_penalty`, `logprobs`, `tools`, llama.cpp's `samplers`…) are ignored, `null` means
 * "not set", and a `max_tokens` beyond what we serve is capped instead of refused; strict only
 * where a value cannot be honoured (`n > 1`, a batch of prompts, non-text content).
 */

const optional = <T extends z.ZodTypeAny>(schema: T) => schema.nullish();

const text = z.string().max(LIMITS.textChars, `must be at most ${LIMITS.textChars} characters`);

/** Options every OpenAI-style route shares, with the diffusion extras accepted as extra body fields. */
const OptionFields = {
  model: optional(z.string().regex(LIMITS.modelId, 'must be 1-200 characters of letters, digits and ._:/@+-')),
  max_tokens: optional(z.number().int().min(1)),
  max_completion_tokens: optional(z.number().int().min(1)),
  temperature: optional(z.number().min(0).max(2)),
  top_p: optional(z.number().gt(0).max(1)),
  // llama.cpp and vLLM treat 0 or -1 as "off".
  top_k: optional(z.number().int().min(-1).max(100_000)),
  user: optional(z.string()),
  stop: optional(z.union([z.string().max(LIMITS.stopChars), z.array(z.string().max(LIMITS.stopChars)).max(LIMITS.stopSequences)])),
  stream: optional(z.boolean()),
  stream_options: optional(z.object({ include_usage: optional(z.boolean()) }).passthrough()),
  n: optional(z.literal(1, { message: 'only n = 1 is supported' })),
  seed: optional(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)),
  steps: optional(z.number().int().min(1).max(LIMITS.steps)),
  alg: optional(z.enum(ALGORITHMS)),
  alg_temp: optional(z.number().min(0).max(10)),
};

type Options = { [K in keyof typeof OptionFields]?: z.infer<(typeof OptionFields)[K]> };

/** What every OpenAI-style door knows after reading a body. */
export interface OpenAiAccepted {
  request: DiffusionRequest;
  stream: boolean;
  includeUsage: boolean;
  /** The prompt's text as the client sent it, for the usage estimate of prompt tokens. */
  promptText: string;
  /** The fill-in-the-middle template found in a completions prompt, if any. */
  template: FimTemplateName | null;
}

/** Generation options from an OpenAI-style body; `maxTokens` is the client's own field when it is not `max_tokens`. */
export function optionsOf(body: Options, maxTokens?: number | null): GenerationOptions {
  const requested = maxTokens ?? body.max_completion_tokens ?? body.max_tokens;
  return {
    model_id: body.model ?? null,
    max_new_tokens: Math.min(requested ?? DEFAULTS.max_new_tokens, LIMITS.maxNewTokens),
    steps: body.steps ?? null,
    temperature: body.temperature ?? DEFAULTS.temperature,
    top_p: body.top_p ?? DEFAULTS.top_p,
    top_k: body.top_k === undefined || body.top_k === null || body.top_k <= 0 ? null : body.top_k,
    alg: body.alg ?? DEFAULTS.alg,
    alg_temp: body.alg_temp ?? null,
    user_id: body.user ? body.user.slice(0, LIMITS.userId) : 'anonymous',
    stop: stopSequences(body.stop),
    seed: body.seed ?? null,
  };
}

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'body', schema);
  return parsed.data as z.infer<T>;
}

const ContentPartSchema = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const MessageSchema = z
  .object({
    role: z.string().min(1).max(64),
    // Assistant turns that only called tools carry `content: null`.
    content: z.union([z.string(), z.array(ContentPartSchema), z.null()]).optional(),
  })
  .passthrough();

const ChatBodySchema = z.object({ messages: z.array(MessageSchema).min(1, 'must hold at least one message').max(1000), ...OptionFields }).passthrough();

/** A message's text: a string, or its text parts joined; any other part cannot be served. */
function messageText(message: z.infer<typeof MessageSchema>, index: number): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return content
    .map((part, p) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      const field = `messages.${index}.content.${p}.type`;
      const message = `${field} must be "text"; ${JSON.stringify(part.type)} parts are not supported`;
      throw new DiffusionError('validation', message, { details: [{ field, message }] });
    })
    .join('\n');
}

/**
 * The messages as one prompt for backends that take text: a lone user message is the prompt
 * itself; a conversation becomes `Role: text` turns ending with `Assistant:`.
 */
export function renderChatPrompt(turns: ReadonlyArray<{ role: string; text: string }>): string {
  const [only] = turns;
  if (turns.length === 1 && only?.role === 'user') return only.text;
  const label = (role: string): string => role.charAt(0).toUpperCase() + role.slice(1);
  return `${turns.map((turn) => `${label(turn.role)}: ${turn.text}`).join('\n\n')}\n\nAssistant:`;
}

function tooLong(field: string): DiffusionError {
  const message = `${field} must be at most ${LIMITS.textChars} characters in all`;
  return new DiffusionError('validation', message, { details: [{ field, message }] });
}

/** `POST /v1/chat/completions`. */
export function readChatRequest(body: unknown): OpenAiAccepted {
  const parsed = parse(ChatBodySchema, body);
  const turns = parsed.messages.map((message, i) => ({ role: message.role, text: messageText(message, i) }));
  const prompt = renderChatPrompt(turns);
  if (prompt.length > LIMITS.textChars) throw tooLong('messages');
  return {
    request: { kind: 'generate', prompt, messages: parsed.messages as ChatMessage[], ...optionsOf(parsed) },
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    promptText: prompt,
    template: null,
  };
}

const PromptSchema = z.union([text, z.array(text).length(1, 'must be one prompt; batches are not supported')], {
  message: 'must be a string (token arrays are not supported)',
});
const CompletionsBodySchema = z.object({ prompt: PromptSchema, suffix: optional(text), ...OptionFields }).passthrough();

/**
 * `POST /v1/completions`: with `suffix` an infill (`prompt` is the prefix); a prompt carrying a
 * fill-in-the-middle template an infill of its parts; otherwise a generation.
 */
export function readCompletionsRequest(body: unknown): OpenAiAccepted {
  const parsed = parse(CompletionsBodySchema, body);
  const prompt = typeof parsed.prompt === 'string' ? parsed.prompt : (parsed.prompt[0] ?? '');
  const options = optionsOf(parsed);
  const common = { stream: parsed.stream === true, includeUsage: parsed.stream_options?.include_usage === true, promptText: prompt + (parsed.suffix ?? '') };
  if (typeof parsed.suffix === 'string') {
    return { request: { kind: 'infill', prefix: prompt, suffix: parsed.suffix, ...options }, ...common, template: null };
  }
  const fim = recogniseFimTemplate(prompt);
  if (fim) return { request: { kind: 'infill', prefix: fim.prefix, suffix: fim.suffix, ...options }, ...common, template: fim.template };
  if (prompt === '')
    throw new DiffusionError('validation', 'prompt must not be empty', { details: [{ field: 'prompt', message: 'prompt must not be empty' }] });
  return { request: { kind: 'generate', prompt, ...options }, ...common, template: null };
}

const FimBodySchema = z.object({ prompt: text, suffix: optional(text), ...OptionFields }).passthrough();

/** `POST /v1/fim/completions` (Mistral's, Inception's and Continue's FIM shape): `prompt` before the gap, `suffix` after. */
export function readFimRequest(body: unknown): OpenAiAccepted {
  const parsed = parse(FimBodySchema, body);
  const suffix = parsed.suffix ?? '';
  return {
    request: { kind: 'infill', prefix: parsed.prompt, suffix, ...optionsOf(parsed) },
    stream: parsed.stream === true,
    includeUsage: parsed.stream_options?.include_usage === true,
    promptText: parsed.prompt + suffix,
    template: null,
  };
}
