import { For, Show, createSignal, onMount, type JSX } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { ConnectionReport, SaveOutcome, SettingField, SettingsView as SettingsSnapshot } from '../../../../shared/api';
import { SettingsUpdateSchema, type SettingsUpdate } from '../../../../shared/apiSchemas';
import { validationMessage } from '../../../../shared/validation';
import { describeError } from '../../api/client';
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

function Row(props: { label: string; hint?: string; overridden?: boolean; children: JSX.Element }) {
  return (
    <div class="setting-row">
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
      <div class="setting-control">{props.children}</div>
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

  onMount(async () => {
    const result = await app.api.getSettings();
    if (result.ok) apply(result.value);
    else setError(describeError(result.error));
  });

  const overridden = (field: SettingField): boolean => snapshot()?.overridden.includes(field) ?? false;
  const dirty = (): boolean => {
    const base = loaded();
    return base !== null && Object.keys(changes(form, base)).length > 0;
  };

  const save = async (): Promise<void> => {
    const base = loaded();
    if (!base) return;
    const parsed = SettingsUpdateSchema.safeParse(changes(form, base));
    if (!parsed.success) {
      setError(validationMessage(parsed.error, { schema: SettingsUpdateSchema, where: 'settings', name: (field) => LABELS[field as SettingField] ?? field }));
      return;
    }
    setSaving(true);
    setError(null);
    const result = await app.api.saveSettings(parsed.data as SettingsUpdate);
    setSaving(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setSaved(result.value);
    apply(result.value.settings);
    void app.refreshInfo();
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

      <ErrorNotice message={error()} />
      <Show when={saved()}>
        {(outcome) => (
          <InfoNotice tone="ok">
            Saved.
            {outcome().applied.length > 0 ? ` In effect now: ${list(outcome().applied)}.` : ''}
            {outcome().restartRequired.length > 0
              ? ` Takes effect at the next start${app.state.info?.transport === 'http' ? ' of the server' : ''}: ${list(outcome().restartRequired)}.`
              : ''}
            {outcome().applied.length === 0 && outcome().restartRequired.length === 0 ? ' Nothing changed.' : ''}
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
            <h3>Model backend</h3>
            <span class="panel-hint">where generations run</span>
          </header>
          <div class="panel-body">
            <Row label="Backend URL" hint="base URL of your model runtime" overridden={overridden('backend')}>
              <input
                class="input mono"
                data-testid="setting-backend"
                placeholder="http://127.0.0.1:8000"
                value={form.backend}
                onInput={(e) => setForm('backend', e.currentTarget.value)}
              />
            </Row>
            <Row label="Protocol" overridden={overridden('backendKind')}>
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
              <Row label="Generate route" overridden={overridden('openaiGenerateApi')}>
                <select
                  class="input"
                  value={form.openaiGenerateApi}
                  onChange={(e) => setForm('openaiGenerateApi', e.currentTarget.value as SettingsForm['openaiGenerateApi'])}
                >
                  <option value="chat">/v1/chat/completions</option>
                  <option value="completions">/v1/completions</option>
                </select>
              </Row>
              <Row label="Infill route" overridden={overridden('openaiInfillApi')}>
                <select
                  class="input"
                  value={form.openaiInfillApi}
                  onChange={(e) => setForm('openaiInfillApi', e.currentTarget.value as SettingsForm['openaiInfillApi'])}
                >
                  <option value="completions">/v1/completions with suffix</option>
                  <option value="fim">/v1/fim/completions</option>
                </select>
              </Row>
              <Row label="Diffusing drafts" hint="Mercury-style diffusing: true, relayed as steps" overridden={overridden('openaiDiffusing')}>
                <label class="switch">
                  <input type="checkbox" checked={form.openaiDiffusing} onChange={(e) => setForm('openaiDiffusing', e.currentTarget.checked)} />
                  <span>{form.openaiDiffusing ? 'on' : 'off'}</span>
                </label>
              </Row>
            </Show>
            <Row label="API key" hint="sent to the backend as a bearer token" overridden={overridden('apiKey')}>
              <input
                class="input mono"
                type="password"
                autocomplete="off"
                placeholder="none"
                value={form.apiKey}
                onInput={(e) => setForm('apiKey', e.currentTarget.value)}
              />
            </Row>
            <Row label="Default model" hint="used when a request names none" overridden={overridden('model')}>
              <input
                class="input mono"
                list="settings-models"
                placeholder="what the backend reports"
                value={form.model}
                onInput={(e) => setForm('model', e.currentTarget.value)}
                data-testid="setting-model"
              />
              <datalist id="settings-models">
                <For each={probe()?.models ?? []}>{(model) => <option value={model} />}</For>
              </datalist>
            </Row>
            <Row label="Timeout" hint="seconds to the first answer and between frames" overridden={overridden('timeout')}>
              <input class="input mono narrow" inputMode="decimal" value={form.timeout} onInput={(e) => setForm('timeout', e.currentTarget.value)} />
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
            <h3>Server and storage</h3>
            <span class="panel-hint">take effect at the next start</span>
          </header>
          <div class="panel-body">
            <Row
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
              />
            </Row>
            <Row label="API token" hint="clients must send Authorization: Bearer …" overridden={overridden('token')}>
              <input
                class="input mono"
                type="password"
                autocomplete="off"
                placeholder="none (loopback only)"
                value={form.token}
                onInput={(e) => setForm('token', e.currentTarget.value)}
              />
            </Row>
            <Row label="Database" hint="SQLite file with every recorded request" overridden={overridden('db')}>
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
