import { createSignal, onCleanup } from 'solid-js';
import type { DiffusionMonitorApi, RunOutcome, StreamHandle } from '../../../../shared/api';
import type { RunRequest } from '../../../../shared/apiSchemas';
import type { StepFrame, StreamFrame } from '../../../../shared/frames';
import { describeError } from '../../api/client';

export type RunPhase = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * One playground run at a time: the frames as they stream in (step frames kept for the
 * scrubber), the final outcome, and cancel.
 */
export function createPlaygroundRun(api: DiffusionMonitorApi) {
  const [phase, setPhase] = createSignal<RunPhase>('idle');
  const [steps, setSteps] = createSignal<StepFrame[]>([]);
  const [deltaText, setDeltaText] = createSignal('');
  const [status, setStatus] = createSignal<string | null>(null);
  const [outcome, setOutcome] = createSignal<RunOutcome | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [startedAt, setStartedAt] = createSignal<number | null>(null);
  let handle: StreamHandle<RunOutcome> | null = null;
  // Frames are collected in a plain array and published once per animation frame, so a fast
  // backend (hundreds of steps a second) costs one render per display frame, not per step.
  let collected: StepFrame[] = [];
  let publishScheduled = false;
  const publish = (): void => {
    publishScheduled = false;
    setSteps([...collected]);
  };

  const onFrame = (frame: StreamFrame): void => {
    switch (frame.type) {
      case 'status':
        setStatus(frame.message);
        break;
      case 'step':
        collected.push(frame);
        if (!publishScheduled) {
          publishScheduled = true;
          requestAnimationFrame(publish);
        }
        break;
      case 'delta':
        setDeltaText((text) => text + frame.text);
        break;
      default:
        break;
    }
  };

  const start = async (request: RunRequest): Promise<void> => {
    handle?.cancel();
    collected = [];
    setSteps([]);
    setDeltaText('');
    setStatus('connecting…');
    setOutcome(null);
    setError(null);
    setStartedAt(performance.now());
    setPhase('running');
    const current = api.run(request, onFrame);
    handle = current;
    const result = await current.result;
    if (handle !== current) return;
    handle = null;
    publish();
    if (result.ok) {
      setOutcome(result.value);
      setPhase('done');
      setStatus(null);
    } else if (result.error.type === 'cancelled') {
      setPhase('cancelled');
      setStatus('stopped');
    } else {
      setError(describeError(result.error));
      setPhase('failed');
      setStatus(null);
    }
  };

  const cancel = (): void => handle?.cancel();
  onCleanup(cancel);

  /** Forgets the last run (the mode switch clears the other mode's result). */
  const reset = (): void => {
    if (handle) return;
    collected = [];
    setSteps([]);
    setDeltaText('');
    setStatus(null);
    setOutcome(null);
    setError(null);
    setStartedAt(null);
    setPhase('idle');
  };

  return { phase, steps, deltaText, status, outcome, error, startedAt, start, cancel, reset };
}
