import { For, Show, createEffect, createMemo, createSignal, on, onMount } from 'solid-js';
import { createStore } from 'solid-js/store';
import { EVENT_TYPES } from '../../../../shared/endpoints';
import type { MetricsSummary } from '../../../../shared/summary';
import { ServerDownNotice } from '../../components/HealthStatus';
import { EmptyState, ErrorNotice, InfoNotice } from '../../components/Notices';
import { OutcomeBadge } from '../../components/OutcomeBadge';
import { endpointLabel, formatCount, formatSeconds, formatTimestamp, modelLabel, timeZoneName } from '../../format';
import { useApp } from '../../state/appState';
import { NO_FILTERS, PAGE_SIZE, createEventsPages, eventDetails, matchingTotal, metaNumber, type EventFilters } from './eventsData';

export function EventsView() {
  const app = useApp();
  const [filters, setFilters] = createStore<EventFilters>({ ...NO_FILTERS });
  /** The request-id box as typed; searched on Enter or when it loses focus. */
  const [typedId, setTypedId] = createSignal('');
  const [models, setModels] = createSignal<string[]>([]);
  const [expanded, setExpanded] = createSignal<number | null>(null);
  const pages = createEventsPages(
    app.api,
    () => ({ type: filters.type, model: filters.model, outcome: filters.outcome, requestId: filters.requestId, since: filters.since }),
    () => app.state.live.tick,
  );

  const [allTime, setAllTime] = createSignal<MetricsSummary | null>(null);
  const loadTotals = async (): Promise<void> => {
    const summary = await app.api.summary('all');
    if (!summary.ok) return;
    setAllTime(summary.value);
    setModels(Object.keys(summary.value.models));
  };
  onMount(() => void loadTotals());
  createEffect(
    on(
      () => app.state.live.tick,
      () => void loadTotals(),
      { defer: true },
    ),
  );
  const total = createMemo(() => matchingTotal(allTime(), filters));
  const pageCount = (): number | null => {
    const t = total();
    return t === null ? null : Math.max(1, Math.ceil(t / PAGE_SIZE));
  };

  const filtered = createMemo(() => filters.type !== '' || filters.model !== '' || filters.outcome !== '' || filters.requestId !== '' || filters.since !== '');
  const clearFilters = (): void => {
    setTypedId('');
    setFilters({ ...NO_FILTERS });
  };

  return (
    <div class="view" data-testid="events-view">
      <header class="view-head">
        <div>
          <h1>Events</h1>
          <p class="view-sub">Every recorded request, newest first. Prompts and outputs are never stored.</p>
        </div>
      </header>

      <div class="filters">
        <label class="field inline">
          <span class="field-label">Endpoint</span>
          <select class="input" value={filters.type} onChange={(e) => setFilters('type', e.currentTarget.value)} data-testid="filter-type">
            <option value="">All</option>
            <For each={EVENT_TYPES}>{(type) => <option value={type}>{endpointLabel(type)}</option>}</For>
          </select>
        </label>
        <label class="field inline">
          <span class="field-label">Model</span>
          <select class="input" value={filters.model} onChange={(e) => setFilters('model', e.currentTarget.value)} data-testid="filter-model">
            <option value="">All</option>
            <For each={models()}>{(model) => <option value={model}>{model}</option>}</For>
          </select>
        </label>
        <label class="field inline">
          <span class="field-label">Outcome</span>
          <select
            class="input"
            value={filters.outcome}
            onChange={(e) => setFilters('outcome', e.currentTarget.value as EventFilters['outcome'])}
            data-testid="filter-outcome"
          >
            <option value="">All</option>
            <option value="success">Succeeded</option>
            <option value="error">Failed</option>
          </select>
        </label>
        <label class="field inline">
          <span class="field-label">Time</span>
          <select
            class="input"
            value={filters.since}
            onChange={(e) => setFilters('since', e.currentTarget.value as EventFilters['since'])}
            data-testid="filter-since"
          >
            <option value="">All time</option>
            <option value="15m">Last 15 min</option>
            <option value="1h">Last hour</option>
            <option value="24h">Last 24 hours</option>
          </select>
        </label>
        <label class="field inline">
          <span class="field-label">Request id</span>
          <input
            class="input mono search"
            type="search"
            placeholder="X-Request-Id"
            value={typedId()}
            onInput={(e) => setTypedId(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') setFilters('requestId', typedId().trim());
            }}
            onBlur={() => setFilters('requestId', typedId().trim())}
            data-testid="filter-request-id"
          />
        </label>
        <Show when={filtered()}>
          <button type="button" class="btn btn-small" onClick={clearFilters}>
            Clear filters
          </button>
        </Show>
        <div class="spacer" />
        <div class="pager">
          <button type="button" class="btn btn-small" disabled={pages.page() === 0} onClick={() => pages.newer()}>
            ← Newer
          </button>
          <span class="muted mono" data-testid="page-label">
            page {pages.page() + 1}
            {pageCount() === null ? '' : ` of ${formatCount(pageCount())}`}
          </span>
          <button type="button" class="btn btn-small" disabled={!pages.hasOlder()} onClick={() => pages.older()} data-testid="older">
            Older →
          </button>
        </div>
      </div>

      <Show when={pages.newSince() > 0}>
        <InfoNotice
          action={
            <button type="button" class="btn btn-small" onClick={() => pages.newest()}>
              Show newest
            </button>
          }
        >
          New requests were recorded since this page loaded.
        </InfoNotice>
      </Show>
      <Show when={app.serverDown()} fallback={<ErrorNotice message={pages.error() === null ? null : `Could not load the events: ${pages.error()}`} />}>
        <ServerDownNotice />
      </Show>
      <Show when={pages.loading() && pages.events().length === 0 && !app.serverDown() && pages.error() === null}>
        <p class="muted" data-testid="events-loading">
          Loading events…
        </p>
      </Show>

      <Show
        when={pages.events().length > 0}
        fallback={
          // "Nothing recorded" only when the store said so: not while loading, failing or unreachable.
          <Show when={!pages.loading() && pages.error() === null && !app.serverDown()}>
            <EmptyState
              title={filtered() ? 'No events match these filters' : 'No events recorded yet'}
              actions={
                filtered() ? (
                  <button type="button" class="btn" onClick={clearFilters}>
                    Clear filters
                  </button>
                ) : (
                  <button type="button" class="btn btn-primary" onClick={() => app.navigate('playground')}>
                    Send one from the Playground
                  </button>
                )
              }
            >
              <p>
                {filtered()
                  ? filters.requestId
                    ? `No recorded request has the id ${filters.requestId}.`
                    : 'Try another endpoint, model, outcome or time.'
                  : 'Each request to /api/diffusion/* is recorded here when it ends, success or failure.'}
              </p>
            </EmptyState>
          </Show>
        }
      >
        <section class="panel flush">
          <div class="table-scroll">
            <table class="table events-table" data-testid="events-table">
              <thead>
                <tr>
                  <th class="num">#</th>
                  <th>Time ({timeZoneName()})</th>
                  <th>Endpoint</th>
                  <th>Model</th>
                  <th>Outcome</th>
                  <th class="num">Status</th>
                  <th class="num">Duration</th>
                  <th class="num">First step</th>
                  <th class="num">Steps</th>
                  <th class="num">Tokens</th>
                  <th>User</th>
                </tr>
              </thead>
              <tbody>
                <For each={pages.events()}>
                  {(event) => (
                    <>
                      <tr
                        class="clickable"
                        classList={{ open: expanded() === event.id }}
                        tabindex="0"
                        aria-expanded={expanded() === event.id}
                        data-testid={`event-row-${event.id}`}
                        onClick={() => setExpanded(expanded() === event.id ? null : event.id)}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter' || e.key === ' ') {
                            e.preventDefault();
                            setExpanded(expanded() === event.id ? null : event.id);
                          }
                        }}
                      >
                        <td class="num muted mono">{event.id}</td>
                        <td class="nowrap mono">{formatTimestamp(event.timestamp)}</td>
                        <td>
                          <span class="endpoint-chip">{endpointLabel(event.event_type)}</span>
                        </td>
                        <td class="mono ellipsis">{modelLabel(event.model_id, event.metadata.error_type ?? null)}</td>
                        <td>
                          <OutcomeBadge event={event} />
                        </td>
                        <td class="num mono">{metaNumber(event, 'status') ?? '—'}</td>
                        <td class="num">{formatSeconds(event.duration)}</td>
                        <td class="num">{formatSeconds(metaNumber(event, 'time_to_first_step'))}</td>
                        <td class="num">{formatCount(metaNumber(event, 'steps'))}</td>
                        <td class="num">{formatCount(metaNumber(event, 'token_count'))}</td>
                        <td class="muted ellipsis">{event.user_id}</td>
                      </tr>
                      <Show when={expanded() === event.id}>
                        <tr class="detail">
                          <td colSpan={11} data-testid="event-details">
                            <dl class="event-details">
                              <For each={eventDetails(event)}>
                                {(detail) => (
                                  <div class="event-detail" classList={{ wide: detail.wide === true, failure: detail.label === 'Error' }}>
                                    <dt>{detail.label}</dt>
                                    <dd classList={{ mono: detail.mono === true }}>{detail.value}</dd>
                                  </div>
                                )}
                              </For>
                            </dl>
                            <details class="raw-metadata">
                              <summary>Stored metadata (JSON)</summary>
                              <pre class="code-block">{JSON.stringify(event.metadata, null, 2)}</pre>
                            </details>
                          </td>
                        </tr>
                      </Show>
                    </>
                  )}
                </For>
              </tbody>
            </table>
          </div>
          <footer class="table-foot muted">
            <span data-testid="events-total">
              {total() === null
                ? `${pages.events().length} shown`
                : `${formatCount(total())} ${filtered() ? 'matching' : 'recorded'} event${total() === 1 ? '' : 's'}`}
            </span>
            {` · ${PAGE_SIZE} per page`}
            {pages.loading() ? ' · loading…' : ''}
          </footer>
        </section>
      </Show>
    </div>
  );
}
