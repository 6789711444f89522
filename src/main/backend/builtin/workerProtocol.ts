import type { ModelManifest } from './modelManifest';
import type { SamplerOptions } from './sampler';

/** What the inference worker is started with. */
export interface WorkerData {
  onnxPath: string;
  /** The sha256 `model.json` records for the ONNX file; a file that differs is refused. */
  expectedSha256: string | null;
  manifest: Pick<ModelManifest, 'vocab' | 'mask_id' | 'pad_id' | 'tokenizer' | 'special_text'>;
  /** onnxruntime's intra-op threads; 1 keeps one generation on one core. */
  threads: number;
}

/** Main thread → worker. */
export type ToWorker =
  | { type: 'run'; id: number; canvas: Int32Array; options: SamplerOptions; seed: number }
  /** Stops run `id` after the step in progress. */
  | { type: 'cancel'; id: number }
  /**
   * Stops every run after its step in progress, releases the session and lets the thread end.
   * (Terminating it during a forward pass aborts the whole process: onnxruntime-node's binding
   * throws a C++ `Napi::Error` into a dying environment.)
   */
  | { type: 'close' };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'load_failed'; message: string }
  | { type: 'step'; id: number; step: number; totalSteps: number; text: string; masked: number; forwardMs: number }
  | { type: 'done'; id: number; canvas: Int32Array; steps: number; stopped: boolean }
  | { type: 'failed'; id: number; message: string };
