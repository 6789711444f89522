import { performance } from 'node:perf_hooks';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { sha256File } from './modelManifest';
import { seededRandom } from './random';
import { denoise } from './sampler';
import { Tokenizer } from './tokenizer';
import type { FromWorker, ToWorker, WorkerData } from './workerProtocol';

/**
 * The built-in model's worker thread: owns the onnxruntime session and runs whole denoising
 * loops, so that inference (synchronous inside onnxruntime-node's `run`) never blocks the
 * server's event loop. One run at a time; a cancel stops a run after its current step.
 */
if (parentPort === null) throw new Error('inferenceWorker must run in a worker thread');
const port: MessagePort = parentPort;
const data = workerData as WorkerData;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
const tokenizer = new Tokenizer(data.manifest);
const cancelled = new Set<number>();
/** Runs queued or in progress: a cancel for any other id (a run that just ended) is dropped. */
const known = new Set<number>();
const vocabSize = data.manifest.vocab.length;

async function main(): Promise<void> {
  let session: InferenceSession;
  try {
    if (data.expectedSha256) {
      const actual = sha256File(data.onnxPath);
      if (actual !== data.expectedSha256.toLowerCase()) throw new Error(`${data.onnxPath} has sha256 ${actual}, model.json says ${data.expectedSha256}`);
    }
    session = await InferenceSession.create(data.onnxPath, {
      intraOpNumThreads: data.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    post({ type: 'load_failed', message: (error as Error).message });
    return;
  }
  const inputName = session.inputNames.includes('tokens') ? 'tokens' : (session.inputNames[0] as string);
  const outputName = session.outputNames.includes('logits') ? 'logits' : (session.outputNames[0] as string);
  let queue = Promise.resolve();

  const run = async (message: Extract<ToWorker, { type: 'run' }>): Promise<void> => {
    const { id, canvas } = message;
    let lastForwardMs = 0;
    const forward = async (tokens: Int32Array): Promise<Float32Array> => {
      const ids = new BigInt64Array(tokens.length);
      for (let i = 0; i < tokens.length; i += 1) ids[i] = BigInt(tokens[i] as number);
      const started = performance.now();
      const outputs = await session.run({ [inputName]: new Tensor('int64', ids, [1, tokens.length]) });
      lastForwardMs = performance.now() - started;
      const logits = outputs[outputName];
      if (logits === undefined || !(logits.data instanceof Float32Array)) throw new Error(`the model has no float32 output ${outputName}`);
      return logits.data;
    };
    try {
      const result = await denoise({ canvas, maskId: tokenizer.maskId, vocabSize }, message.options, forward, seededRandom(message.seed), (report) => {
        post({
          type: 'step',
          id,
          step: report.step,
          totalSteps: report.totalSteps,
          text: tokenizer.decode(report.canvas),
          masked: report.masked,
          forwardMs: lastForwardMs,
        });
        return !cancelled.has(id);
      });
      post({ type: 'done', id, canvas: result.canvas, steps: result.steps, stopped: result.stopped });
    } catch (error) {
      post({ type: 'failed', id, message: (error as Error).message });
    } finally {
      cancelled.delete(id);
      known.delete(id);
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') {
      for (const id of known) cancelled.add(id);
      queue = queue.then(async () => {
        await session.release();
        // Nothing is left to listen for: the thread's event loop empties and it ends.
        port.close();
      });
      return;
    }
    if (message.type === 'cancel') {
      if (known.has(message.id)) cancelled.add(message.id);
      return;
    }
    known.add(message.id);
    queue = queue.then(() => run(message));
  });
  post({ type: 'ready' });
}

void main();
