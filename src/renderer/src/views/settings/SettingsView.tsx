import { For, Show, createEffect, createSignal, onMount, untrack, type JSX } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { ConnectionReport, SaveOutcome, SettingField, SettingsView as SettingsSnapshot } from '../../../../shared/api';
import { SettingsUpdateSchema, type SettingsUpdate } from '../../../../shared/apiSchemas';
import { fieldMessages } from '../../../../shared/validation';
import { describeError } from '../../api/client';
import { ServerDownNotice } from '../../components/HealthStatus';
import { ErrorNotice, InfoNotice } from '../../components/Notices';
import { useApp } from '../../state/appState';

interface SettingsForm {
  backend: string;
  backendKind: 'dllm' | 'openai';
  model: string;
  timeout: string;
  apiKey: string;
  openaiGenerateApi: 'chat' | 'completions';
  openaiInfillApi: 'completions' | 'fim';
  openaiDiffusing: boolean;
  port: string;
  db: string;
  token: string;
}

const LABELS: Record<SettingField, string> = {
  backend: 'backend URL',
  backendKind: 'protocol',
  model: 'default model',
  timeout: 'timeout',
  apiKey: 'backend API key',
  openaiGenerateApi: 'generate route',
  openaiInfillApi: 'infill route',
  openaiDiffusing: 'diffusing drafts',
  port: 'port',
  db: 'database location',
  token: 'API token',
};

function toForm(view: SettingsSnapshot): SettingsForm {
  const value = { ...view.effective, ...view.saved };
  return {
    backend: value.backend ?? '',
    backendKind: value.backendKind,
    model: value.model ?? '',
    timeout: String(value.timeout),
    apiKey: value.apiKey ?? '',
    openaiGenerateApi: value.openaiGenerateApi,
    openaiInfillApi: value.openaiInfillApi,
    openaiDiffusing: value.openaiDiffusing,
    port: String(value.port),
    db: value.db,
    token: value.token ?? '',
  };
}

/** The fields that differ from what was loaded, as a settings update. */
function changes(form: SettingsForm, loaded: SettingsForm): Record<string, unknown> {
  const text = (value: string): string | null => (value.trim() === '' ? null : value.trim());
  const all: Record<keyof SettingsForm, unknown> = {
    backend: text(form.backend),
    backendKind: form.backendKind,
    model: text(form.model),
    timeout: Number(form.timeout),
    apiKey: text(form.apiKey),
    openaiGenerateApi: form.openaiGenerateApi,
    openaiInfillApi: form.openaiInfillApi,
    openaiDiffusing: form.openaiDiffusing,
    port: Number(form.port),
    db: form.db.trim(),
    token: text(form.token),
  };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(all) as Array<keyof SettingsForm>) if (form[key] !== loaded[key]) out[key] = all[key];
  return out;
}

function list(fields: SettingField[]): string {
  return fields.map((field) => LABELS[field]).join(', ');
}

/** A field's name as a sentence starts with it ("Backend URL must be …"). */
function sentenceLabel(field: string): string {
  return (LABELS[field as SettingField] ?? field).replace(/^\w/, (c) => c.toUpperCase());
}

/** Every problem of a settings update, one plain sentence per field. */
export function fieldProblems(update: Record<string, unknown>): Partial<Record<SettingField, string>> {
  const parsed = SettingsUpdateSchema.safeParse(update);
  if (parsed.success) return {};
  return fieldMessages(parsed.error, { schema: SettingsUpdateSchema, where: 'settings', name: sentenceLabel }) as Partial<Record<SettingField, string>>;
}

function Row(props: { label: string; hint?: string; overridden?: boolean; error?: string | undefined; field?: SettingField; children: JSX.Element }) {
  return (
    <div class="setting-row" classList={{ invalid: props.error !== undefined }} data-testid={props.field ? `row-${props.field}` : undefined}>
      <div class="setting-label">
        <span>{props.label}</span>
        <Show when={props.hint}>
          <span class="setting-hint">{props.hint}</span>
        </Show>
        <Show when={props.overridden}>
          <span class="badge badge-warn" title="A command-line flag or environment variable sets this; the saved value applies when it is gone.">
            set by flag / env
          </span>
        </Show>
      </div>
      <div class="setting-control">
        {props.children}
        <Show when={props.error}>
          <span class="field-error" role="alert" data-testid={props.field ? `error-${props.field}` : undefined}>
            {props.error}
          </span>
        </Show>
      </div>
    </div>
  );
}

export function SettingsView() {
  const app = useApp();
  const [snapshot, setSnapshot] = createSignal<SettingsSnapshot | null>(null);
  const [loaded, setLoaded] = createSignal<SettingsForm | null>(null);
  const [form, setForm] = createStore<SettingsForm>({
    backend: '',
    backendKind: 'dllm',
    model: '',
    timeout: '120',
    apiKey: '',
    openaiGenerateApi: 'chat',
    openaiInfillApi: 'completions',
    openaiDiffusing: false,
    port: '7000',
    db: '',
    token: '',
  });
  const [error, setError] = createSignal<string | null>(null);
  const [problems, setProblems] = createSignal<Partial<Record<SettingField, string>>>({});
  /** Saved fields whose running value a flag or environment variable still decides. */
  const [stillOverridden, setStillOverridden] = createSignal<SettingField[]>([]);
  /** The backend's model list, to check the default model against. */
  const [backendModels, setBackendModels] = createSignal<string[] | null>(null);
  const [saved, setSaved] = createSignal<SaveOutcome | null>(null);
  const [saving, setSaving] = createSignal(false);
  const [probe, setProbe] = createSignal<ConnectionReport | null>(null);
  const [probeError, setProbeError] = createSignal<string | null>(null);
  const [probing, setProbing] = createSignal(false);

  const apply = (view: SettingsSnapshot): void => {
    const values = toForm(view);
    setSnapshot(view);
    setLoaded(values);
    setForm(values);
  };

  const loadModels = async (): Promise<void> => {
    const result = await app.api.models();
    setBackendModels(result.ok ? result.value.models : null);
  };
  onMount(async () => {
    const result = await app.api.getSettings();
    if (result.ok) apply(result.value);
    else setError(`Could not load the settings: ${describeError(result.error)}`);
    void loadModels();
  });
  // A field's message goes away as soon as it is edited into something valid.
  createEffect(() => {
    const base = loaded();
    const update = base ? changes(form, base) : null;
    // Reads the form only: the messages it writes must not re-run it.
    if (update === null || Object.keys(untrack(problems)).length === 0) return;
    setProblems(fieldProblems(update));
  });
  /** The saved default model when the backend does not list it (requests naming it would fail). */
  const modelMismatch = (): string | undefined => {
    const models = backendModels() ?? probe()?.models ?? null;
    const model = snapshot()?.effective.model ?? null;
    if (models === null || models.length === 0 || model === null || models.includes(model)) return undefined;
    return `The backend does not list ${JSON.stringify(model)}, so requests that use the default model fail. It offers: ${models.slice(0, 6).join(', ')}${models.length > 6 ? ', …' : ''}.`;
  };

  const overridden = (field: SettingField): boolean => snapshot()?.overridden.includes(field) ?? false;
  const dirty = (): boolean => {
    const base = loaded();
    return base !== null && Object.keys(changes(form, base)).length > 0;
  };

  const save = async (): Promise<void> => {
    const base = loaded();
    if (!base) return;
    const update = changes(form, base);
    const parsed = SettingsUpdateSchema.safeParse(update);
    if (!parsed.success) {
      const found = fieldProblems(update);
      setProblems(found);
      const count = Object.keys(found).length;
      setError(`Not saved: ${count === 1 ? 'one setting needs' : `${count} settings need`} fixing (marked below).`);
      setSaved(null);
      return;
    }
    setProblems({});
    setSaving(true);
    setError(null);
    const result = await app.api.saveSettings(parsed.data as SettingsUpdate);
    setSaving(false);
    if (!result.ok) {
      // The server checks what the form cannot (a file it cannot write, a URL it refuses): put the
      // message next to the field it names, when it names one.
      // The server words its sentences with the field's key ("timeout must be …"), older ones with its label.
      const message = result.error.message;
      const startsWith = (name: string): boolean => message.toLowerCase().startsWith(`${name.toLowerCase()} `);
      const named = (Object.keys(LABELS) as SettingField[]).find((field) => startsWith(field) || startsWith(LABELS[field]));
      if (named) setProblems({ [named]: `${sentenceLabel(named)}${message.slice((startsWith(named) ? named : LABELS[named]).length)}` });
      setError(`Not saved: ${describeError(result.error)}`);
      return;
    }
    const overriddenNow = new Set(result.value.settings.overridden);
    setStillOverridden((Object.keys(parsed.data) as SettingField[]).filter((field) => overriddenNow.has(field)));
    setSaved(result.value);
    apply(result.value.settings);
    void app.refreshInfo();
    void loadModels();
  };

  const testConnection = async (): Promise<void> => {
    setProbe(null);
    setProbeError(null);
    if (form.backend.trim() === '') {
      setProbeError('Enter the backend URL first, e.g. http://127.0.0.1:8000');
      return;
    }
    setProbing(true);
    const result = await app.api.testConnection({ kind: form.backendKind, url: form.backend.trim(), apiKey: form.apiKey.trim() || null });
    setProbing(false);
    if (result.ok) setProbe(result.value);
    else setProbeError(describeError(result.error));
  };

  return (
    <div class="view narrow" data-testid="settings-view">
      <header class="view-head">
        <div>
          <h1>Settings</h1>
          <p class="view-sub">
            Saved to <code>{snapshot()?.file ?? 'the settings file'}</code>. Command-line flags and environment variables still take precedence.
          </p>
        </div>
      </header>

      <ServerDownNotice />
      <ErrorNotice message={error()} />
      <Show when={saved()}>
        {(outcome) => (
          <InfoNotice tone="ok">
            Saved.
            {outcome().applied.length > 0 ? ` In effect now: ${list(outcome().applied)}.` : ''}
            {outcome().restartRequired.length > 0
              ? ` Takes effect at the next start${app.state.info?.transport === 'http' ? ' of the server' : ''}: ${list(outcome().restartRequired)}.`
              : ''}
            {stillOverridden().length > 0
              ? ` Written to the file, but a command-line flag or environment variable sets ${list(stillOverridden())}, so the running value stays until it is gone.`
              : ''}
            {outcome().applied.length === 0 && outcome().restartRequired.length === 0 && stillOverridden().length === 0 ? ' Nothing changed.' : ''}
          </InfoNotice>
        )}
      </Show>

      <form
        class="settings"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <section class="panel">
          <header class="panel-head">
            <h2>Model backend</h2>
            <span class="panel-hint">where generations run</span>
          </header>
          <div class="panel-body">
            <Row field="backend" error={problems().backend} label="Backend URL" hint="base URL of your model runtime" overridden={overridden('backend')}>
              <input
                class="input mono"
                data-testid="setting-backend"
                aria-invalid={problems().backend !== undefined}
                placeholder="http://127.0.0.1:8000"
                value={form.backend}
                onInput={(e) => setForm('backend', e.currentTarget.value)}
              />
            </Row>
            <Row field="backendKind" error={problems().backendKind} label="Protocol" overridden={overridden('backendKind')}>
              <div class="segmented" role="radiogroup" aria-label="Protocol">
                <button
                  type="button"
                  role="radio"
                  aria-checked={form.backendKind === 'dllm'}
                  classList={{ active: form.backendKind === 'dllm' }}
                  onClick={() => setForm('backendKind', 'dllm')}
                >
                  dllm <span class="muted">(step frames)</span>
                </button>
                <button
                  type="button"
                  role="radio"
                  aria-checked={form.backendKind === 'openai'}
                  classList={{ active: form.backendKind === 'openai' }}
                  onClick={() => setForm('backendKind', 'openai')}
                >
                  OpenAI-compatible
                </button>
              </div>
            </Row>
            <Show when={form.backendKind === 'openai'}>
              <Row field="openaiGenerateApi" error={problems().openaiGenerateApi} label="Generate route" overridden={overridden('openaiGenerateApi')}>
                <select
                  class="input"
                  value={form.openaiGenerateApi}
                  onChange={(e) => setForm('openaiGenerateApi', e.currentTarget.value as SettingsForm['openaiGenerateApi'])}
                >
                  <option value="chat">/v1/chat/completions</option>
                  <option value="completions">/v1/completions</option>
                </select>
              </Row>
              <Row field="openaiInfillApi" error={problems().openaiInfillApi} label="Infill route" overridden={overridden('openaiInfillApi')}>
                <select
                  class="input"
                  value={form.openaiInfillApi}
                  onChange={(e) => setForm('openaiInfillApi', e.currentTarget.value as SettingsForm['openaiInfillApi'])}
                >
                  <option value="completions">/v1/completions with suffix</option>
                  <option value="fim">/v1/fim/completions</option>
                </select>
              </Row>
              <Row
                field="openaiDiffusing"
                error={problems().openaiDiffusing}
                label="Diffusing drafts"
                hint="Mercury-style diffusing: true, relayed as steps"
                overridden={overridden('openaiDiffusing')}
              >
                <label class="switch">
                  <input type="checkbox" checked={form.openaiDiffusing} onChange={(e) => setForm('openaiDiffusing', e.currentTarget.checked)} />
                  <span>{form.openaiDiffusing ? 'on' : 'off'}</span>
                </label>
              </Row>
            </Show>
            <Row field="apiKey" error={problems().apiKey} label="API key" hint="sent to the backend as a bearer token" overridden={overridden('apiKey')}>
              <input
                class="input mono"
                type="password"
                autocomplete="off"
                placeholder="none"
                value={form.apiKey}
                onInput={(e) => setForm('apiKey', e.currentTarget.value)}
              />
            </Row>
            <Row
              field="model"
              error={problems().model ?? modelMismatch()}
              label="Default model"
              hint="used when a request names none"
              overridden={overridden('model')}
            >
              <input
                class="input mono"
                list="settings-models"
                placeholder="what the backend reports"
                value={form.model}
                onInput={(e) => setForm('model', e.currentTarget.value)}
                data-testid="setting-model"
                aria-invalid={problems().model !== undefined || modelMismatch() !== undefined}
              />
              <datalist id="settings-models">
                <For each={probe()?.models ?? []}>{(model) => <option value={model} />}</For>
              </datalist>
            </Row>
            <Row
              field="timeout"
              error={problems().timeout}
              label="Timeout"
              hint="seconds to the first answer and between frames"
              overridden={overridden('timeout')}
            >
              <input
                class="input mono narrow"
                inputMode="decimal"
                value={form.timeout}
                onInput={(e) => setForm('timeout', e.currentTarget.value)}
                data-testid="setting-timeout"
                aria-invalid={problems().timeout !== undefined}
              />
            </Row>
            <div class="probe">
              <button type="button" class="btn" disabled={probing()} onClick={() => void testConnection()} data-testid="test-connection">
                {probing() ? 'Testing…' : 'Test connection'}
              </button>
              <Show when={probe()}>
                {(report) => (
                  <div class="probe-result">
                    <span class="badge badge-ok">reachable</span>
                    <span class="muted">
                      {report().models.length} model{report().models.length === 1 ? '' : 's'} in {report().latencyMs} ms:
                    </span>
                    <For each={report().models}>
                      {(model) => (
                        <button
                          type="button"
                          class="chip"
                          classList={{ active: form.model === model }}
                          onClick={() => setForm('model', model)}
                          title="Use as the default model"
                        >
                          {model}
                        </button>
                      )}
                    </For>
                  </div>
                )}
              </Show>
              <ErrorNotice message={probeError()} />
            </div>
          </div>
        </section>

        <section class="panel">
          <header class="panel-head">
            <h2>Server and storage</h2>
            <span class="panel-hint">take effect at the next start</span>
          </header>
          <div class="panel-body">
            <Row
              field="port"
              error={problems().port}
              label="Port"
              hint={`the local endpoint${app.state.info?.serverUrl ? `, now ${app.state.info.serverUrl}` : ''}`}
              overridden={overridden('port')}
            >
              <input
                class="input mono narrow"
                inputMode="numeric"
                value={form.port}
                onInput={(e) => setForm('port', e.currentTarget.value)}
                data-testid="setting-port"
                aria-invalid={problems().port !== undefined}
              />
            </Row>
            <Row
              field="token"
              error={problems().token}
              label="API token"
              hint="at least 16 characters; clients must send Authorization: Bearer …"
              overridden={overridden('token')}
            >
              <input
                class="input mono"
                type="password"
                autocomplete="off"
                placeholder="none (loopback only)"
                data-testid="setting-token"
                aria-invalid={problems().token !== undefined}
                value={form.token}
                onInput={(e) => setForm('token', e.currentTarget.value)}
              />
            </Row>
            <Row field="db" error={problems().db} label="Database" hint="SQLite file with every recorded request" overridden={overridden('db')}>
              <input class="input mono" value={form.db} onInput={(e) => setForm('db', e.currentTarget.value)} />
            </Row>
          </div>
        </section>

        <div class="form-actions sticky">
          <button type="button" class="btn" disabled={!dirty()} onClick={() => loaded() && setForm({ ...(loaded() as SettingsForm) })}>
            Revert
          </button>
          <button type="submit" class="btn btn-primary" disabled={!dirty() || saving()} data-testid="save-settings">
            {saving() ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
    </div>
  );
}
