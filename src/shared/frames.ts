import { z } from 'zod';
import { ErrorTypeSchema } from './errors';

/** The SSE wire format: one JSON object per `data:` line, `type` first. */
export const StatusFrameSchema = z.object({ type: z.literal('status'), message: z.string(), request_id: z.string().optional() });
export const StepFrameSchema = z.object({
  type: z.literal('step'),
  step: z.number().int().min(0),
  total_steps: z.number().int().min(0).nullable().optional(),
  text: z.string(),
  masked: z.number().int().min(0).nullable().optional(),
});
export const DeltaFrameSchema = z.object({ type: z.literal('delta'), text: z.string() });
export const CompleteFrameSchema = z.object({
  type: z.literal('complete'),
  text: z.string(),
  generation_time: z.number(),
  model_used: z.string(),
  token_count: z.number().int().min(0),
});
export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  error_type: ErrorTypeSchema,
  message: z.string(),
  retryable: z.boolean(),
});

export const StreamFrameSchema = z.discriminatedUnion('type', [StatusFrameSchema, StepFrameSchema, DeltaFrameSchema, CompleteFrameSchema, ErrorFrameSchema]);
export type StatusFrame = z.infer<typeof StatusFrameSchema>;
export type StepFrame = z.infer<typeof StepFrameSchema>;
export type DeltaFrame = z.infer<typeof DeltaFrameSchema>;
export type CompleteFrame = z.infer<typeof CompleteFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export type StreamFrame = z.infer<typeof StreamFrameSchema>;

/** Serialises a frame as one SSE event, `type` first. */
export function sseData(frame: StreamFrame): string {
  return `data: ${JSON.stringify(frame)}\n\n`;
}
