import { z } from 'zod';
import { issueSentences } from './validation';

/** The error taxonomy of PRODUCT.md: every failure is exactly one of these. */
export const ERROR_TYPES = ['validation', 'timeout', 'network', 'backend', 'model_unavailable', 'cancelled', 'rate_limited', 'internal'] as const;
export const ErrorTypeSchema = z.enum(ERROR_TYPES);
export type ErrorType = z.infer<typeof ErrorTypeSchema>;

/** HTTP status for each type; `cancelled` has none because nothing is sent. */
export const ERROR_STATUS: Record<ErrorType, number> = {
  validation: 400,
  timeout: 504,
  network: 502,
  backend: 502,
  model_unavailable: 503,
  cancelled: 499,
  rate_limited: 429,
  internal: 500,
};

export const ERROR_RETRYABLE: Record<ErrorType, boolean> = {
  validation: false,
  timeout: true,
  network: true,
  backend: false,
  model_unavailable: false,
  cancelled: false,
  rate_limited: true,
  internal: false,
};

export const ErrorBodySchema = z.object({
  error: z.object({
    type: ErrorTypeSchema,
    message: z.string(),
    retryable: z.boolean(),
    request_id: z.string().optional(),
    details: z.unknown().optional(),
  }),
});
/** The one body shape of every error answer. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error that already knows which taxonomy type it is. */
export class DiffusionError extends Error {
  readonly type: ErrorType;
  readonly retryable: boolean;
  readonly status: number;
  readonly details: unknown;

  constructor(type: ErrorType, message: string, options: { details?: unknown; status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DiffusionError';
    this.type = type;
    this.retryable = ERROR_RETRYABLE[type];
    this.status = options.status ?? ERROR_STATUS[type];
    this.details = options.details;
  }

  toBody(requestId?: string): ErrorBody {
    return {
      error: {
        type: this.type,
        message: this.message,
        retryable: this.retryable,
        ...(requestId === undefined ? {} : { request_id: requestId }),
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/**
 * Maps anything thrown onto the taxonomy: a `DiffusionError` (configuration errors are ones)
 * keeps its type, a failed parse is `validation` worded in plain sentences, anything else is our
 * own bug (`internal`). The HTTP error handler and the monitor service both start here.
 */
export function asDiffusionError(error: unknown): DiffusionError {
  if (error instanceof DiffusionError) return error;
  if (error instanceof z.ZodError) {
    const details = issueSentences(error);
    return new DiffusionError('validation', details[0]?.message ?? 'input is not valid', { details });
  }
  return new DiffusionError('internal', 'internal error; see the server log', { cause: error });
}
