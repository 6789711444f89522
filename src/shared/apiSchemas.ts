import { z } from 'zod';
import type { InvokeKey, StreamKey } from './api';
import { GenerateBodySchema, InfillBodySchema } from './requests';
import { TIME_WINDOWS } from './series';

/**
 * Schemas of every input that crosses into the main process, over IPC or HTTP. Both edges parse
 * with these, so a renderer (or a script) that sends something else gets a `validation` error.
 */
export const TimeWindowSchema = z.enum(TIME_WINDOWS);

/** The protocols the backend client speaks. */
export const BACKEND_KINDS = ['dllm', 'openai'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];
/** Which OpenAI route serves `generate`: chat messages or a raw completion prompt. */
export const OPENAI_GENERATE_APIS = ['chat', 'completions'] as const;
export type OpenAiGenerateApi = (typeof OPENAI_GENERATE_APIS)[number];
/** Which OpenAI route serves `infill`: `/v1/completions` with `suffix`, or `/v1/fim/completions`. */
export const OPENAI_INFILL_APIS = ['completions', 'fim'] as const;
export type OpenAiInfillApi = (typeof OPENAI_INFILL_APIS)[number];

export const BackendProtocolSchema = z.enum(BACKEND_KINDS);
export const OpenAiGenerateApiSchema = z.enum(OPENAI_GENERATE_APIS);
export const OpenAiInfillApiSchema = z.enum(OPENAI_INFILL_APIS);

export const OUTCOMES = ['success', 'error'] as const;

/** One page of the events table: newest first, keyset-paginated by id. */
export const EventsQuerySchema = z
  .object({
    limit: z.number().int().min(1).max(500).default(50),
    /** Only events with an id below this one (the previous page's `nextBefore`). */
    before: z.number().int().min(1).optional(),
    type: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200).optional(),
    outcome: z.enum(OUTCOMES).optional(),
    /** Only the request with this id (the X-Request-Id of its response). */
    request_id: z.string().trim().min(1).max(200).optional(),
    /** Only events that started at or after this Unix time (seconds). */
    since: z.number().min(0).optional(),
  })
  .strict();

const httpUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL, e.g. http://127.0.0.1:8000');

/** A backend to probe from Settings before saving it. */
export const BackendTargetSchema = z
  .object({
    kind: BackendProtocolSchema,
    url: httpUrl,
    apiKey: z.string().max(4096).nullable().optional(),
  })
  .strict();

/** The settings the Settings view edits; `null` clears a value (back to its default). */
/** Shortest API token accepted: the Settings view always, the server when it listens beyond loopback. */
export const MIN_TOKEN_LENGTH = 16;

export const EditableSettingsSchema = z
  .object({
    backend: httpUrl.nullable(),
    backendKind: BackendProtocolSchema,
    model: z.string().trim().min(1).max(200).nullable(),
    timeout: z.number().positive().max(3600),
    apiKey: z.string().max(4096).nullable(),
    openaiGenerateApi: OpenAiGenerateApiSchema,
    openaiInfillApi: OpenAiInfillApiSchema,
    openaiDiffusing: z.boolean(),
    port: z.number().int().min(0).max(65535),
    db: z.string().trim().min(1).max(4096),
    token: z.string().min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`).max(4096).nullable(),
  })
  .strict();

/** A save sends only the fields it changes. */
export const SettingsUpdateSchema = EditableSettingsSchema.partial();

export const PortSchema = z.number().int().min(1).max(65535);

/** A playground run: the body of `POST /api/diffusion/{generate,infill}/stream`. */
export const RunRequestSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('generate'), body: GenerateBodySchema }).strict(),
  z.object({ mode: z.literal('infill'), body: InfillBodySchema }).strict(),
]);

/** Formats `GET /api/diffusion/metrics/export` renders from the aggregates. */
export const EXPORT_FORMATS = ['json', 'prometheus', 'influxdb'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** What the Export view offers: the export formats plus the raw events as CSV. */
export const EXPORT_KINDS = [...EXPORT_FORMATS, 'csv'] as const;
export const ExportRequestSchema = z
  .object({
    format: z.enum(EXPORT_KINDS),
    /** Ignored by `prometheus`, whose counters always cover all time. */
    window: TimeWindowSchema.default('all'),
  })
  .strict();

export type EventsQuery = z.input<typeof EventsQuerySchema>;
export type BackendTarget = z.infer<typeof BackendTargetSchema>;
export type EditableSettings = z.infer<typeof EditableSettingsSchema>;
export type SettingsUpdate = z.infer<typeof SettingsUpdateSchema>;
export type RunRequest = z.infer<typeof RunRequestSchema>;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export type ExportRequest = z.input<typeof ExportRequestSchema>;

/** Validates what arrives in the main process for each method that takes an input. */
export const API_INPUTS = {
  summary: TimeWindowSchema,
  series: TimeWindowSchema,
  events: EventsQuerySchema,
  testConnection: BackendTargetSchema,
  saveSettings: SettingsUpdateSchema,
  changePort: PortSchema,
  run: RunRequestSchema,
  export: ExportRequestSchema,
} as const satisfies { [K in InvokeKey | StreamKey]?: z.ZodType };
