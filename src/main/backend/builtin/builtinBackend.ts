import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DiffusionError } from '../../../shared/errors';
import type { DiffusionRequest } from '../../../shared/requests';
import type { BackendHealth, BackendResult, DiffusionBackend, RunOptions } from '../diffusionBackend';
import { answerOf, checkFits, layOut } from './canvasLayout';
import { GenerationQueue } from './generationQueue';
import { ModelFilesError, readModelFiles, type ModelFiles } from './modelManifest';
import type { SamplerOptions } from './sampler';
import { Tokenizer } from './tokenizer';
import type { FromWorker, ToWorker, WorkerData } from './workerProtocol';

export interface BuiltinBackendOptions {
  /** The folder with `model.json` and the ONNX file. */
  modelDir: string;
  /** Seconds of silence tolerated: waiting in the queue, or between two denoising steps (loading the model once is not counted). */
  timeoutSeconds: number;
  /** Requests that may wait while the model is busy (default 8). */
  queueLimit?: number;
  /** Generations that run at once, one worker thread each (default 1). */
  slots?: number;
  /** onnxruntime threads per generation (default 1). */
  threads?: number;
  /** The worker's entry; found beside this module (built `.js` or, under tsx/vitest, the `.ts` source) when not given. */
  workerUrl?: URL;
}

/** Model ids a request may name for the built-in model besides its own name. */
const ALIASES = new Set(['builtin', 'default']);

/** One generation in a worker: its frames go to `onStep`, its end to `settle`. */
interface Job {
  onStep: (message: Extract<FromWorker, { type: 'step' }>) => void;
  settle: (message: Extract<FromWorker, { type: 'done' } | { type: 'failed' }>) => void;
}

/** A worker thread holding one onnxruntime session. */
class ModelWorker {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private failure: DiffusionError | null = null;
  private nextId = 1;
  private exited = false;
  private closing: Promise<void> | null = null;

  constructor(entry: URL, data: WorkerData, onExit: () => void) {
    this.worker = startWorker(entry, data);
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            resolve();
            return;
          case 'load_failed':
            this.fail(new DiffusionError('model_unavailable', `the built-in model did not load: ${message.message}`));
            reject(this.failure);
            return;
          case 'step':
            this.jobs.get(message.id)?.onStep(message);
            return;
          case 'done':
          case 'failed':
            this.jobs.get(message.id)?.settle(message);
            this.jobs.delete(message.id);
            return;
        }
      });
      this.worker.on('error', (error) => {
        this.fail(new DiffusionError('backend', `the built-in model's worker failed: ${error.message}`, { cause: error }));
        reject(this.failure);
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        this.fail(new DiffusionError('backend', `the built-in model's worker exited (code ${code})`));
        reject(this.failure);
        onExit();
      });
    });
    // Nobody may be waiting yet; a load failure is reported to the next run instead.
    this.ready.catch(() => undefined);
  }

  get failed(): DiffusionError | null {
    return this.failure;
  }

  /** Starts a run; returns a function that asks the worker to stop it after its current step. */
  start(canvas: Int32Array, options: SamplerOptions, seed: number, job: Job): () => void {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    this.jobs.set(id, job);
    this.post({ type: 'run', id, canvas, options, seed });
    return () => {
      if (this.jobs.has(id)) this.post({ type: 'cancel', id });
    };
  }

  /** Ends the thread between two steps; a thread that does not end within `graceMs` is terminated. */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.exited) {
        resolve();
        return;
      }
      const force = setTimeout(() => void this.worker.terminate(), graceMs);
      this.worker.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      this.post({ type: 'close' });
    });
    return this.closing;
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private fail(error: DiffusionError): void {
    if (this.failure) return;
    this.failure = error;
    for (const [id, job] of this.jobs) job.settle({ type: 'failed', id, message: error.message });
    this.jobs.clear();
  }
}

/** The worker entry next to this module: the build's `.js`, else the `.ts` source (tsx, vitest). */
function defaultWorkerUrl(): URL {
  const built = new URL('./inferenceWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  return new URL('./inferenceWorker.ts', import.meta.url);
}

/** tsx's ESM API, resolved from here (its CommonJS twin cannot register hooks from an ES module). */
function tsxApiUrl(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    const root = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
    return pathToFileURL(join(root, 'dist/esm/api/index.mjs')).href;
  }
}

function startWorker(entry: URL, data: WorkerData): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data });
  // Sources run under tsx; a worker does not inherit its loader hooks, so it registers them first.
  const tsx = tsxApiUrl();
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, {
    eval: true,
    workerData: data,
  });
}

/**
 * The built-in model (kind `builtin`): a tiny masked-diffusion LM shipped with the app, run by
 * onnxruntime-node in worker threads with the TypeScript sampler of Dream's `diffusion_generate`.
 * Files are read and the worker started on first use; requests beyond the running ones wait in a
 * bounded FIFO queue.
 */
export class BuiltinBackend implements DiffusionBackend {
  readonly kind = 'builtin' as const;
  readonly url = null;
  private readonly options: BuiltinBackendOptions;
  private readonly queue: GenerationQueue;
  private readonly workers: Array<ModelWorker | null>;
  private files: { model: ModelFiles; tokenizer: Tokenizer } | null = null;
  private lastError: string | null = null;
  private closed = false;

  constructor(options: BuiltinBackendOptions) {
    this.options = options;
    this.queue = new GenerationQueue({ slots: options.slots ?? 1, limit: options.queueLimit ?? 8 });
    this.workers = new Array<ModelWorker | null>(this.queue.slots).fill(null);
  }

  preflight(request: DiffusionRequest): void {
    const { model } = this.modelFiles();
    this.checkModelId(request, model);
    checkFits(request, model.manifest.context_length);
    this.queue.check();
  }

  async run(request: DiffusionRequest, options: RunOptions): Promise<BackendResult> {
    const { model, tokenizer } = this.modelFiles();
    this.checkModelId(request, model);
    const manifest = model.manifest;
    const layout = layOut(request, tokenizer, manifest.context_length);
    const sampler: SamplerOptions = {
      steps: request.steps ?? request.max_new_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      topK: request.top_k,
      alg: request.alg,
      algTemp: request.alg_temp,
    };
    const seed = request.seed ?? randomInt(0, 2 ** 48 - 1);
    if (options.signal.aborted) throw new DiffusionError('cancelled', 'the client went away');

    const sentAt = performance.now();
    const ticket = this.queue.acquire();
    if (ticket.position > 0) options.onFrame?.({ type: 'status', message: `waiting for the built-in model: ${ticket.position} ahead in the queue` });
    if (layout.truncation) options.onFrame?.({ type: 'status', message: layout.truncation });

    return new Promise<BackendResult>((resolve, reject) => {
      let stop: (() => void) | null = null;
      let stopReason: DiffusionError | null = null;
      let slotRelease: (() => void) | null = null;
      let silence: NodeJS.Timeout | undefined;
      let firstStepAt: number | null = null;
      let startedAt = 0;
      const timeoutMs = Math.ceil(this.options.timeoutSeconds * 1000);

      const finish = (outcome: { result: BackendResult } | { error: unknown }): void => {
        clearTimeout(silence);
        options.signal.removeEventListener('abort', onAbort);
        if (slotRelease) {
          this.queue.recordRunSeconds((performance.now() - startedAt) / 1000);
          slotRelease();
          slotRelease = null;
        }
        if ('result' in outcome) resolve(outcome.result);
        else reject(outcome.error);
      };
      const halt = (error: DiffusionError): void => {
        if (stopReason) return;
        stopReason = error;
        if (stop) stop();
        else {
          ticket.cancel(error);
        }
      };
      const armSilence = (): void => {
        clearTimeout(silence);
        silence = setTimeout(
          () =>
            halt(new DiffusionError('timeout', `the built-in model gave no step for ${this.options.timeoutSeconds} s (queue wait included); raise --timeout`)),
          timeoutMs,
        );
      };
      const onAbort = (): void => halt(new DiffusionError('cancelled', 'the client went away'));
      options.signal.addEventListener('abort', onAbort, { once: true });
      armSilence();

      ticket.slot
        .then(async (slot) => {
          slotRelease = slot.release;
          if (stopReason) throw stopReason;
          const worker = this.workerFor(slot.index, model);
          // Loading the model (once per worker) is not a silence of the model's: the clock waits.
          clearTimeout(silence);
          await worker.ready;
          if (stopReason) throw stopReason;
          startedAt = performance.now();
          armSilence();
          stop = worker.start(layout.tokens, sampler, seed, {
            onStep: (message) => {
              // Steps already on their way when the run was stopped are not relayed.
              if (stopReason) return;
              firstStepAt ??= performance.now();
              armSilence();
              options.onFrame?.({ type: 'step', step: message.step, total_steps: message.totalSteps, text: message.text, masked: message.masked });
            },
            settle: (message) => {
              if (message.type === 'failed') {
                finish({ error: new DiffusionError('backend', `the built-in model failed: ${message.message}`) });
                return;
              }
              if (message.stopped) {
                finish({ error: stopReason ?? new DiffusionError('cancelled', 'the generation was stopped') });
                return;
              }
              const answer = answerOf(request.kind, message.canvas, layout, tokenizer);
              finish({
                result: {
                  text: answer.text,
                  modelUsed: manifest.name,
                  tokenCount: answer.tokenCount,
                  generationTime: (performance.now() - startedAt) / 1000,
                  steps: message.steps,
                  ...(firstStepAt === null ? {} : { timeToFirstStep: (firstStepAt - sentAt) / 1000 }),
                },
              });
            },
          });
          if (stopReason) stop();
        })
        .catch((error: unknown) => {
          if (error instanceof DiffusionError) this.lastError = error.type === 'cancelled' ? this.lastError : error.message;
          finish({ error });
        });
    });
  }

  async listModels(): Promise<string[]> {
    return [this.modelFiles().model.manifest.name];
  }

  async health(): Promise<BackendHealth> {
    let model: ModelFiles | null = null;
    let problem: string | null = null;
    try {
      model = this.modelFiles().model;
    } catch (error) {
      problem = (error as Error).message;
    }
    const loaded = this.workers.some((worker) => worker !== null && worker.failed === null);
    const failed = this.workers.find((worker) => worker?.failed)?.failed?.message ?? null;
    return {
      configured: true,
      kind: this.kind,
      url: null,
      reachable: model !== null && failed === null,
      models: model ? [model.manifest.name] : [],
      last_error: problem ?? failed ?? this.lastError,
      checked_at: Date.now() / 1000,
      builtin: {
        name: model?.manifest.name ?? null,
        parameters: model?.manifest.parameters ?? null,
        context_length: model?.manifest.context_length ?? null,
        loaded,
        model_dir: this.options.modelDir,
        queue: { running: this.queue.running, waiting: this.queue.waitingCount, limit: this.queue.limit, slots: this.queue.slots },
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0, this.workers.length);
    await Promise.all(workers.map((worker) => worker?.close()));
  }

  /** The manifest and tokenizer, read once; a missing or broken folder is `model_unavailable`. */
  private modelFiles(): { model: ModelFiles; tokenizer: Tokenizer } {
    if (this.files) return this.files;
    try {
      const model = readModelFiles(this.options.modelDir);
      if (!existsSync(model.onnxPath)) throw new ModelFilesError(`the built-in model's ${model.onnxPath} is missing`);
      this.files = { model, tokenizer: new Tokenizer(model.manifest) };
      return this.files;
    } catch (error) {
      if (error instanceof ModelFilesError)
        throw new DiffusionError('model_unavailable', `${error.message}; retrain with training/ or start with --backend URL`);
      throw error;
    }
  }

  private checkModelId(request: DiffusionRequest, model: ModelFiles): void {
    const named = request.model_id;
    if (named === null || named === model.manifest.name || ALIASES.has(named)) return;
    throw new DiffusionError('model_unavailable', `unknown model ${JSON.stringify(named)}: the built-in backend serves ${model.manifest.name}`);
  }

  private workerFor(index: number, model: ModelFiles): ModelWorker {
    if (this.closed) throw new DiffusionError('model_unavailable', 'the built-in model is shutting down');
    const current = this.workers[index];
    if (current && current.failed === null) return current;
    const { manifest } = model;
    const worker = new ModelWorker(
      this.options.workerUrl ?? defaultWorkerUrl(),
      {
        onnxPath: model.onnxPath,
        expectedSha256: manifest.onnx?.sha256 ?? null,
        manifest: {
          vocab: manifest.vocab,
          mask_id: manifest.mask_id,
          pad_id: manifest.pad_id,
          tokenizer: manifest.tokenizer,
          special_text: manifest.special_text,
        },
        threads: this.options.threads ?? 1,
      },
      () => {
        if (this.workers[index] === worker) this.workers[index] = null;
      },
    );
    this.workers[index] = worker;
    return worker;
  }
}
