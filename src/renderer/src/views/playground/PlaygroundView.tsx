import { For, Show, createEffect, createMemo, createSignal, onCleanup, onMount, untrack } from 'solid-js';
import { createStore } from 'solid-js/store';
import { RunRequestSchema } from '../../../../shared/apiSchemas';
import { ALGORITHMS, DEFAULTS } from '../../../../shared/requests';
import { issueSentences } from '../../../../shared/validation';
import { describeError } from '../../api/client';
import { HealthBanner, ServerDownNotice } from '../../components/HealthStatus';
import { EmptyState, ErrorNotice, InfoNotice } from '../../components/Notices';
import { formatCount, formatRate, formatSeconds } from '../../format';
import { useApp } from '../../state/appState';
import { REVEAL_BANDS, countMasks, diffCanvas, nextRevealSteps, revealBand, type CanvasUnit } from './canvasTokens';
import { createPlaygroundRun } from './playgroundData';

interface PlaygroundForm {
  mode: 'generate' | 'infill';
  prompt: string;
  prefix: string;
  suffix: string;
  model: string;
  max_new_tokens: string;
  steps: string;
  temperature: string;
  top_p: string;
  top_k: string;
  alg: string;
  alg_temp: string;
}

const FORM_KEY = 'diffusion-monitor.playground';

const INITIAL: PlaygroundForm = {
  mode: 'generate',
  prompt: 'Explain in two sentences how a diffusion language model writes text.',
  prefix: 'def add(a, b):\n',
  suffix: '\n\nprint(add(2, 3))\n',
  model: '',
  max_new_tokens: String(DEFAULTS.max_new_tokens),
  steps: '',
  temperature: String(DEFAULTS.temperature),
  top_p: String(DEFAULTS.top_p),
  top_k: '',
  alg: DEFAULTS.alg,
  alg_temp: '',
};

function loadForm(): PlaygroundForm {
  try {
    return { ...INITIAL, ...(JSON.parse(localStorage.getItem(FORM_KEY) ?? '{}') as Partial<PlaygroundForm>) };
  } catch {
    return INITIAL;
  }
}

/** The request body from the form: empty fields are left to the server's defaults. */
type FormFailure = { ok: false; field: string; message: string };

/** The label a field has on the form, for messages shown next to it. */
const FIELD_LABELS: Record<string, string> = {
  prompt: 'Prompt',
  prefix: 'Prefix',
  suffix: 'Suffix',
  model_id: 'Model',
  max_new_tokens: 'Max new tokens',
  steps: 'Steps',
  temperature: 'Temperature',
  top_p: 'Top p',
  top_k: 'Top k',
  alg: 'Algorithm',
  alg_temp: 'Alg. temperature',
};

function buildRequest(form: PlaygroundForm): { ok: true; value: import('../../../../shared/apiSchemas').RunRequest } | FormFailure {
  const numbers: Record<string, number> = {};
  for (const field of ['max_new_tokens', 'steps', 'temperature', 'top_p', 'top_k', 'alg_temp'] as const) {
    const raw = form[field].trim();
    if (raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) return { ok: false, field, message: `${FIELD_LABELS[field]} must be a number, not "${raw}"` };
    numbers[field] = value;
  }
  const options = { ...numbers, alg: form.alg, ...(form.model.trim() ? { model_id: form.model.trim() } : {}), user_id: 'playground' };
  const candidate =
    form.mode === 'generate'
      ? { mode: 'generate', body: { prompt: form.prompt, ...options } }
      : { mode: 'infill', body: { prefix: form.prefix, suffix: form.suffix, ...options } };
  const parsed = RunRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    const first = issueSentences(parsed.error, {
      schema: RunRequestSchema,
      skip: ['body'],
      where: 'request',
      name: (field) => FIELD_LABELS[field] ?? field,
    })[0];
    // The form calls the body's `model_id` "model".
    const field = first?.field === 'model_id' ? 'model' : (first?.field ?? 'request');
    return { ok: false, field, message: first?.message ?? 'The request is not valid' };
  }
  return { ok: true, value: parsed.data };
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function PlaygroundView() {
  const app = useApp();
  const [form, setForm] = createStore<PlaygroundForm>(loadForm());
  const run = createPlaygroundRun(app.api);
  const [models, setModels] = createSignal<string[]>([]);
  const [modelsError, setModelsError] = createSignal<{ type: string; message: string } | null>(null);
  const [formError, setFormError] = createSignal<{ field: string; message: string } | null>(null);
  /** The mode of the run on the canvas (the form's mode may have changed since). */
  const [runMode, setRunMode] = createSignal<PlaygroundForm['mode']>(untrack(() => form.mode));
  /** The step shown; `null` follows the newest while streaming. */
  const [selected, setSelected] = createSignal<number | null>(null);
  const [playing, setPlaying] = createSignal(false);
  const [copied, setCopied] = createSignal<'copied' | 'failed' | null>(null);

  createEffect(() => localStorage.setItem(FORM_KEY, JSON.stringify(form)));

  onMount(async () => {
    const result = await app.api.models();
    if (result.ok) {
      setModels(result.value.models);
      if (!form.model && result.value.defaultModel) setForm('model', result.value.defaultModel);
    } else {
      setModelsError(result.error);
    }
  });

  const submit = (): void => {
    if (run.phase() === 'running') return;
    const request = buildRequest(form);
    if (!request.ok) {
      setFormError({ field: request.field, message: request.message });
      return;
    }
    setFormError(null);
    setRunMode(form.mode);
    setSelected(null);
    setPlaying(false);
    void run.start(request.value);
  };

  onMount(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      } else if (event.key === 'Escape' && run.phase() === 'running') {
        run.cancel();
      }
    };
    window.addEventListener('keydown', onKey);
    onCleanup(() => window.removeEventListener('keydown', onKey));
  });

  const shownIndex = createMemo(() => {
    const count = run.steps().length;
    if (count === 0) return -1;
    const pick = selected();
    return pick === null ? count - 1 : Math.min(pick, count - 1);
  });
  const shownFrame = createMemo(() => run.steps()[shownIndex()] ?? null);
  /** Backends count steps from 0 or from 1; the label always counts from 1. */
  const stepNumber = (step: number): number => step + (run.steps()[0]?.step === 0 ? 1 : 0);
  // Units and reveal steps of every received step, computed once per step as frames arrive.
  let unitCache: CanvasUnit[][] = [];
  let revealCache: number[][] = [];
  let analysedFirst: unknown;
  const analysed = createMemo(() => {
    const steps = run.steps();
    if (steps.length < unitCache.length || steps[0] !== analysedFirst) {
      unitCache = [];
      revealCache = [];
    }
    analysedFirst = steps[0];
    for (let i = unitCache.length; i < steps.length; i += 1) {
      const units = diffCanvas(steps[i - 1]?.text ?? null, (steps[i] as { text: string }).text);
      unitCache.push(units);
      revealCache.push(nextRevealSteps(revealCache[i - 1] ?? null, units, i));
    }
    return { units: unitCache, reveal: revealCache, count: steps.length };
  });
  const units = createMemo(() => analysed().units[shownIndex()] ?? []);
  const reveal = createMemo(() => analysed().reveal[shownIndex()] ?? []);
  /** Steps the run has (or had, once over): the colour scale spans them all. */
  const totalSteps = (): number => Math.max(run.steps().length, shownFrame()?.total_steps ?? 0);
  const masked = createMemo(() => {
    const frame = shownFrame();
    if (!frame) return 0;
    return typeof frame.masked === 'number' ? frame.masked : countMasks(frame.text);
  });
  const initialMasked = createMemo(() => {
    const first = run.steps()[0];
    if (!first) return 0;
    return Math.max(typeof first.masked === 'number' ? first.masked : countMasks(first.text), masked());
  });
  const progress = createMemo(() => {
    const frame = shownFrame();
    if (!frame) return 0;
    if (frame.total_steps) return Math.min(100, (stepNumber(frame.step) / frame.total_steps) * 100);
    const start = initialMasked();
    return start > 0 ? ((start - masked()) / start) * 100 : 100;
  });

  // Replays the recorded steps after a run.
  createEffect(() => {
    if (!playing()) return;
    const timer = setInterval(() => {
      const last = run.steps().length - 1;
      const next = (selected() ?? last) >= last ? 0 : (selected() ?? 0) + 1;
      setSelected(next);
      if (next >= last) setPlaying(false);
    }, 60);
    onCleanup(() => clearInterval(timer));
  });

  const copyOutput = async (): Promise<void> => {
    const text = run.outcome()?.text;
    if (!text) return;
    const done = await navigator.clipboard.writeText(text).then(
      () => 'copied' as const,
      () => 'failed' as const,
    );
    setCopied(done);
    setTimeout(() => setCopied(null), 1500);
  };

  const noBackend = () => modelsError()?.type === 'model_unavailable' || (app.state.info !== null && app.state.info.backend.url === null);

  const fieldError = (name: string) => (
    <Show when={formError()?.field === name}>
      <span class="field-error" role="alert" data-testid={`field-error-${name}`}>
        {formError()?.message}
      </span>
    </Show>
  );

  const field = (name: keyof PlaygroundForm, label: string, placeholder: string, hint?: string) => (
    <label class="field">
      <span class="field-label">{label}</span>
      <input
        class="input mono"
        classList={{ invalid: formError()?.field === name }}
        aria-invalid={formError()?.field === name}
        inputMode="decimal"
        value={form[name]}
        placeholder={placeholder}
        onInput={(e) => setForm(name, e.currentTarget.value)}
        title={hint}
        data-testid={`param-${name}`}
      />
      {fieldError(name)}
    </label>
  );

  /** Switching mode clears the other mode's result, so an infill answer never sits under a prompt. */
  const setMode = (mode: PlaygroundForm['mode']): void => {
    if (form.mode === mode) return;
    setForm('mode', mode);
    setFormError(null);
    if (run.phase() !== 'running') {
      run.reset();
      setSelected(null);
      setPlaying(false);
    }
  };
  const modeKeys = (event: KeyboardEvent): void => {
    if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(event.key)) return;
    event.preventDefault();
    const next = form.mode === 'generate' ? 'infill' : 'generate';
    setMode(next);
    (event.currentTarget as HTMLElement).querySelector<HTMLButtonElement>(`[data-mode=${next}]`)?.focus();
  };
  const stoppedAt = (): string => {
    const frame = run.steps().at(-1);
    if (!frame) return 'before the first denoising step';
    return `at step ${stepNumber(frame.step)}${frame.total_steps ? ` of ${frame.total_steps}` : ''}, ${formatCount(typeof frame.masked === 'number' ? frame.masked : countMasks(frame.text))} positions still masked`;
  };

  return (
    <div class="view" data-testid="playground-view">
      <header class="view-head">
        <div>
          <h1>Playground</h1>
          <p class="view-sub">
            Send a generation or infill through the local endpoint and watch the canvas denoise. <kbd>{isMac ? '⌘' : 'Ctrl'}</kbd>+<kbd>Enter</kbd> sends,{' '}
            <kbd>Esc</kbd> stops.
          </p>
        </div>
      </header>

      <HealthBanner />
      <ServerDownNotice />

      <Show when={noBackend()}>
        <EmptyState
          title="No backend configured — open Settings"
          actions={
            <button type="button" class="btn btn-primary" onClick={() => app.navigate('settings')}>
              Open Settings
            </button>
          }
        >
          <p>
            The playground talks to your model runtime (a dllm server such as Dream or LLaDA, or any OpenAI-compatible server) through Diffusion Monitor's own
            endpoint.
          </p>
        </EmptyState>
      </Show>

      <div class="playground">
        <form
          class="panel playground-form"
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <div class="segmented full" role="radiogroup" aria-label="Mode" onKeyDown={modeKeys} data-testid="mode">
            <button
              type="button"
              role="radio"
              data-mode="generate"
              aria-checked={form.mode === 'generate'}
              tabindex={form.mode === 'generate' ? 0 : -1}
              classList={{ active: form.mode === 'generate' }}
              onClick={() => setMode('generate')}
            >
              Generate
            </button>
            <button
              type="button"
              role="radio"
              data-mode="infill"
              aria-checked={form.mode === 'infill'}
              tabindex={form.mode === 'infill' ? 0 : -1}
              classList={{ active: form.mode === 'infill' }}
              onClick={() => setMode('infill')}
            >
              Infill
            </button>
          </div>

          <label class="field">
            <span class="field-label">Model</span>
            <input
              class="input mono"
              list="playground-models"
              value={form.model}
              placeholder="backend default"
              onInput={(e) => setForm('model', e.currentTarget.value)}
            />
            <datalist id="playground-models">
              <For each={models()}>{(model) => <option value={model} />}</For>
            </datalist>
          </label>

          <Show
            when={form.mode === 'generate'}
            fallback={
              <>
                <label class="field">
                  <span class="field-label">Prefix</span>
                  <textarea
                    class="input mono"
                    rows="5"
                    value={form.prefix}
                    data-testid="prefix"
                    aria-invalid={formError()?.field === 'prefix'}
                    onInput={(e) => setForm('prefix', e.currentTarget.value)}
                  />
                  {fieldError('prefix')}
                </label>
                <label class="field">
                  <span class="field-label">Suffix</span>
                  <textarea
                    class="input mono"
                    rows="4"
                    value={form.suffix}
                    data-testid="suffix"
                    aria-invalid={formError()?.field === 'suffix'}
                    onInput={(e) => setForm('suffix', e.currentTarget.value)}
                  />
                  {fieldError('suffix')}
                </label>
              </>
            }
          >
            <label class="field">
              <span class="field-label">Prompt</span>
              <textarea
                class="input mono"
                rows="7"
                value={form.prompt}
                data-testid="prompt"
                aria-invalid={formError()?.field === 'prompt'}
                onInput={(e) => setForm('prompt', e.currentTarget.value)}
              />
              {fieldError('prompt')}
            </label>
          </Show>

          <div class="param-grid">
            {field('max_new_tokens', 'Max new tokens', String(DEFAULTS.max_new_tokens))}
            {field('steps', 'Steps', 'model default', 'Denoising steps')}
            {field('temperature', 'Temperature', String(DEFAULTS.temperature))}
            {field('top_p', 'Top p', String(DEFAULTS.top_p))}
            {field('top_k', 'Top k', 'off')}
            <label class="field">
              <span class="field-label">Algorithm</span>
              <select class="input" value={form.alg} onChange={(e) => setForm('alg', e.currentTarget.value)}>
                <For each={ALGORITHMS}>{(alg) => <option value={alg}>{alg}</option>}</For>
              </select>
            </label>
            {field('alg_temp', 'Alg. temperature', 'off')}
          </div>

          <Show when={formError() && !Object.hasOwn(FIELD_LABELS, formError()?.field ?? '')}>
            <ErrorNotice message={formError()?.message} />
          </Show>
          <div class="form-actions">
            <Show
              when={run.phase() === 'running'}
              fallback={
                <button type="submit" class="btn btn-primary" data-testid="run">
                  Run <span class="kbd-hint">{isMac ? '⌘↵' : 'Ctrl+↵'}</span>
                </button>
              }
            >
              <button type="button" class="btn btn-danger" onClick={() => run.cancel()}>
                Stop <span class="kbd-hint">Esc</span>
              </button>
            </Show>
          </div>
        </form>

        <section class="panel canvas-panel">
          <header class="panel-head">
            <h2>Diffusion canvas</h2>
            <span class="panel-hint" data-testid="step-label">
              <Show when={shownFrame()} fallback={run.status() ?? (run.phase() === 'idle' ? 'waiting for a run' : '')}>
                {(frame) => (
                  <>
                    step {stepNumber(frame().step)}
                    {frame().total_steps ? ` / ${frame().total_steps}` : ''} · {formatCount(masked())} masked
                  </>
                )}
              </Show>
            </span>
          </header>
          <div class="progress" aria-hidden="true">
            <div class="progress-bar" classList={{ running: run.phase() === 'running' }} style={{ width: `${progress()}%` }} />
          </div>
          <ErrorNotice message={run.error()} />
          <Show when={run.phase() === 'cancelled'}>
            <div class="run-stopped" data-testid="run-stopped">
              <InfoNotice tone="warn">
                <strong>Stopped</strong> {stoppedAt()}. The partial canvas stays below; nothing more is generated. Run again to start over.
              </InfoNotice>
            </div>
          </Show>
          <div class="canvas-legend" aria-label="Canvas legend">
            <span class="legend-item">
              <span class="tok mask legend-mask" aria-hidden="true" /> masked
            </span>
            <span class="legend-item">
              <span class="legend-scale" aria-hidden="true">
                <For each={Array.from({ length: REVEAL_BANDS }, (_, i) => i)}>{(band) => <span class={`reveal-${band}`} />}</For>
              </span>
              revealed early → late
            </span>
            <span class="legend-item">
              <span class="tok fresh legend-fresh">abc</span> this step
            </span>
            <Show when={runMode() === 'infill'}>
              <span class="legend-item">
                <span class="ctx legend-ctx">ctx</span> your prefix / suffix
              </span>
            </Show>
          </div>
          <div class="canvas mono" data-testid="diffusion-canvas" data-step={shownFrame()?.step ?? ''} data-masked={masked()} data-mode={runMode()}>
            <Show when={runMode() === 'infill' && run.phase() !== 'idle'}>
              <span class="ctx" data-testid="infill-prefix">
                {form.prefix}
              </span>
            </Show>
            <Show
              when={units().length > 0}
              fallback={
                <Show
                  when={run.deltaText()}
                  fallback={
                    <span class="canvas-placeholder">
                      {run.phase() === 'running' ? 'Waiting for the first denoising step…' : 'Masked positions appear here and fill in step by step.'}
                    </span>
                  }
                >
                  <span class="tok">{run.deltaText()}</span>
                </Show>
              }
            >
              <For each={units()}>
                {(unit, index) =>
                  unit.kind === 'mask' ? (
                    <span class="tok mask" title={unit.text} />
                  ) : (
                    <span
                      class={`tok${unit.kind === 'text' ? ` reveal-${revealBand(reveal()[index()] ?? -1, totalSteps())}` : ''}`}
                      classList={{ fresh: unit.fresh, space: unit.kind === 'space' }}
                      title={unit.kind === 'text' ? `revealed at step ${(reveal()[index()] ?? 0) + 1}` : undefined}
                    >
                      {unit.text}
                    </span>
                  )
                }
              </For>
            </Show>
            <Show when={runMode() === 'infill' && run.phase() !== 'idle'}>
              <span class="ctx" data-testid="infill-suffix">
                {form.suffix}
              </span>
            </Show>
          </div>

          <Show when={run.phase() !== 'running' && run.steps().length > 1}>
            <div class="scrubber" data-testid="scrubber">
              <button type="button" class="btn btn-small" onClick={() => setPlaying(!playing())}>
                {playing() ? 'Pause' : 'Replay'}
              </button>
              <input
                type="range"
                min="0"
                max={run.steps().length - 1}
                value={shownIndex()}
                aria-label="Step"
                onInput={(e) => {
                  setPlaying(false);
                  setSelected(Number(e.currentTarget.value));
                }}
              />
              <span class="mono muted">
                {shownIndex() + 1} / {run.steps().length}
              </span>
            </div>
          </Show>

          <Show when={run.outcome()}>
            {(outcome) => (
              <div class="outcome" data-testid="run-outcome">
                <div class="stats">
                  <div>
                    <span class="stat-label">Model</span>
                    <span class="mono">{outcome().modelUsed}</span>
                  </div>
                  <div>
                    <span class="stat-label">Duration</span>
                    {formatSeconds(outcome().duration)}
                  </div>
                  <div>
                    <span class="stat-label">First step</span>
                    {formatSeconds(outcome().timeToFirstFrame)}
                  </div>
                  <div>
                    <span class="stat-label">Steps</span>
                    {formatCount(outcome().steps)}
                  </div>
                  <div>
                    <span class="stat-label">Tokens</span>
                    {formatCount(outcome().tokenCount)}
                  </div>
                  <div>
                    <span class="stat-label">Tokens/s</span>
                    {formatRate(outcome().generationTime > 0 ? outcome().tokenCount / outcome().generationTime : null)}
                  </div>
                  <div>
                    <span class="stat-label">Request</span>
                    <span class="mono muted">{outcome().requestId?.slice(0, 8) ?? '—'}</span>
                  </div>
                </div>
                <div class="output-head">
                  <span class="field-label">Result</span>
                  <button type="button" class="btn btn-small" onClick={() => void copyOutput()}>
                    {copied() === 'copied' ? 'Copied' : copied() === 'failed' ? 'Copy failed' : 'Copy'}
                  </button>
                </div>
                <pre class="output mono" data-testid="run-output">
                  <Show when={runMode() === 'infill'}>
                    <span class="ctx">{form.prefix}</span>
                  </Show>
                  <span class="filled">{outcome().text}</span>
                  <Show when={runMode() === 'infill'}>
                    <span class="ctx">{form.suffix}</span>
                  </Show>
                </pre>
              </div>
            )}
          </Show>
          <Show when={!noBackend() && modelsError() && run.phase() === 'idle'}>
            <ErrorNotice message={describeError(modelsError() as { type: 'internal'; message: string })} />
          </Show>
        </section>
      </div>
    </div>
  );
}
