import type { RequestOutcome } from './requestEvent';

/** The model label of a request that failed validation: its `model_id` is whatever the client sent. */
export const INVALID_MODEL_LABEL = 'invalid';
/** The label of models past the cap, or never reported by the backend. */
export const OTHER_MODEL_LABEL = 'other';
/** Distinct model labels kept by default. */
export const DEFAULT_MAX_MODELS = 100;
/** Characters of a client-sent model id kept in an event's metadata. */
export const REQUESTED_MODEL_CHARS = 200;

/**
 * The bounded set of model labels in metrics, rollups and exports. A model earns its own label
 * when the backend lists it or answers with it (or it is the configured default), up to `max`
 * distinct ones; everything else counts as `other`, and invalid requests as `invalid`. So random
 * `model_id`s from clients can neither grow `/metrics` nor the rollup tables; the id a client
 * sent is kept in the event's metadata only (`requested_model`, length-capped).
 */
export class ModelLabels {
  private readonly admitted = new Set<string>();

  constructor(
    readonly max: number = DEFAULT_MAX_MODELS,
    private readonly defaultModel: () => string | null = () => null,
  ) {}

  /** Models the backend reported or answered with. */
  admit(models: Iterable<string>): void {
    for (const model of models) {
      if (this.admitted.size >= this.max) return;
      if (model.length > 0 && model.length <= REQUESTED_MODEL_CHARS) this.admitted.add(model);
    }
  }

  get size(): number {
    return this.admitted.size;
  }

  /** The label for a model name: its own when admitted (or the default model), else `other`. */
  labelOf(model: string): string {
    if (this.admitted.has(model)) return model;
    if (model === 'default' || model === this.defaultModel()) return model;
    return OTHER_MODEL_LABEL;
  }

  /**
   * The outcome as it is recorded: a success admits its model, validation failures take the
   * `invalid` label, and the id the client sent moves to `requestedModel` when it is not the label.
   */
  label(outcome: RequestOutcome): RequestOutcome {
    const requested = outcome.modelId;
    if (outcome.errorType === undefined) this.admit([requested]);
    const label = outcome.errorType === 'validation' ? INVALID_MODEL_LABEL : this.labelOf(requested);
    if (label === requested) return outcome;
    return { ...outcome, modelId: label, requestedModel: requested.slice(0, REQUESTED_MODEL_CHARS) };
  }
}
