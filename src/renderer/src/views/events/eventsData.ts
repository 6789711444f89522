import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { DiffusionMonitorApi, EventsQuery } from '../../../../shared/api';
import type { PerformanceEvent } from '../../../../shared/events';
import type { MetricsSummary } from '../../../../shared/summary';
import { TIME_WINDOW_SECONDS, type TimeWindowKey } from '../../../../shared/series';
import { describeError } from '../../api/client';
import { formatCount, formatMilliseconds, formatTimestamp, timeZoneName } from '../../format';

export interface EventFilters {
  type: string;
  model: string;
  outcome: '' | 'success' | 'error';
  /** A request id to find (the X-Request-Id a client got); '' for none. */
  requestId: string;
  /** Only events of the last window; '' for all time. */
  since: '' | Exclude<TimeWindowKey, 'all'>;
}

export const NO_FILTERS: EventFilters = { type: '', model: '', outcome: '', requestId: '', since: '' };

export const PAGE_SIZE = 50;

/**
 * Pages of events, newest first, by keyset: each page remembers the `before` id it was loaded
 * with, so Newer walks back the stack and Older continues from the last id shown.
 */
export function createEventsPages(api: DiffusionMonitorApi, filters: Accessor<EventFilters>, tick: Accessor<number>) {
  const [events, setEvents] = createSignal<PerformanceEvent[]>([]);
  const [cursors, setCursors] = createSignal<Array<number | undefined>>([undefined]);
  const [nextBefore, setNextBefore] = createSignal<number | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(true);
  const [newSince, setNewSince] = createSignal(0);

  const page = (): number => cursors().length - 1;

  const load = async (): Promise<void> => {
    const f = filters();
    const before = cursors()[page()];
    const query: EventsQuery = {
      limit: PAGE_SIZE,
      ...(before === undefined ? {} : { before }),
      ...(f.type ? { type: f.type } : {}),
      ...(f.model ? { model: f.model } : {}),
      ...(f.outcome ? { outcome: f.outcome } : {}),
      ...(f.requestId.trim() ? { request_id: f.requestId.trim() } : {}),
      ...(f.since ? { since: Math.floor(Date.now() / 1000 - (TIME_WINDOW_SECONDS[f.since] ?? 0)) } : {}),
    };
    setLoading(true);
    const result = await api.events(query);
    setLoading(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setError(null);
    // Stored events never change: keep the objects already shown, so their rows (and the focus
    // or open details in them) survive a live refresh.
    const shown = new Map(events().map((event) => [event.id, event]));
    // Pages come in id order (when a request ended); rows read by when it started, newest first.
    setEvents(result.value.events.map((event) => shown.get(event.id) ?? event).sort((a, b) => b.timestamp - a.timestamp || b.id - a.id));
    setNextBefore(result.value.nextBefore);
    setNewSince(0);
  };

  createEffect(
    on(filters, () => {
      setCursors([undefined]);
      void load();
    }),
  );
  // On the first page new events are shown as they come; deeper pages only count them.
  createEffect(
    on(
      tick,
      () => {
        if (page() === 0) void load();
        else setNewSince((n) => n + 1);
      },
      { defer: true },
    ),
  );

  return {
    events,
    error,
    loading,
    page,
    newSince,
    hasOlder: () => nextBefore() !== null,
    older: () => {
      const before = nextBefore();
      if (before === null) return;
      setCursors((c) => [...c, before]);
      void load();
    },
    newer: () => {
      if (page() === 0) return;
      setCursors((c) => c.slice(0, -1));
      void load();
    },
    newest: () => {
      setCursors([undefined]);
      void load();
    },
  };
}

export function metaNumber(event: PerformanceEvent, key: string): number | null {
  const value = event.metadata[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** One detail line: a label and its value, or nothing when the event has none. */
interface Detail {
  label: string;
  value: string;
  mono?: boolean;
  wide?: boolean;
}

/** What the metadata says, in words and units: milliseconds, not `0.1557854490000027`. */
export function eventDetails(event: PerformanceEvent): Detail[] {
  const m = event.metadata;
  const text = (key: string): string | null => (typeof m[key] === 'string' && m[key] !== '' ? (m[key] as string) : null);
  const num = (key: string): number | null => metaNumber(event, key);
  const details: Detail[] = [];
  const push = (label: string, value: string | null, extra: Partial<Detail> = {}): void => {
    if (value !== null) details.push({ label, value, ...extra });
  };
  push('Error', text('error_message') ?? (text('error_type') ? `${text('error_type')} (no message stored: recorded before messages were kept)` : null), {
    wide: true,
  });
  push('Upstream status', num('upstream_status') === null ? null : `HTTP ${num('upstream_status')}`);
  push('Request id', text('request_id'), { mono: true });
  push('Backend request id', text('upstream_request_id'), { mono: true });
  push('Started', `${formatTimestamp(event.timestamp)} ${timeZoneName(new Date(event.timestamp * 1000))}`);
  push('Duration', formatMilliseconds(event.duration));
  const generation = num('generation_time');
  push('Generation time', generation === null ? null : formatMilliseconds(generation));
  const ttfs = num('time_to_first_step');
  push('First step after', ttfs === null ? null : formatMilliseconds(ttfs));
  push('Steps', num('steps') === null ? null : formatCount(num('steps')));
  push('Chunks', num('chunks') === null ? null : formatCount(num('chunks')));
  const firstChunk = num('time_to_first_chunk');
  push('First chunk after', firstChunk === null ? null : formatMilliseconds(firstChunk));
  const tokens = num('token_count');
  push(
    'Tokens',
    tokens === null
      ? null
      : `${formatCount(tokens)}${text('token_count_source') ? ` (${text('token_count_source') === 'backend' ? 'reported by the backend' : 'estimated'})` : ''}`,
  );
  push('Max new tokens', num('max_new_tokens') === null ? null : formatCount(num('max_new_tokens')));
  push('Temperature', num('temperature') === null ? null : String(num('temperature')));
  push('Top p', num('top_p') === null ? null : String(num('top_p')));
  push('Algorithm', text('alg'), { mono: true });
  push('Backend', text('backend'));
  push('API', text('api'));
  push('User', event.user_id);
  return details;
}

/**
 * How many stored events match the filters, from the all-time aggregates (no count over the
 * table); `null` for a combination the aggregates do not break down (endpoint and model together).
 */
export function matchingTotal(summary: MetricsSummary | null, filters: EventFilters): number | null {
  if (summary === null) return null;
  // The aggregates know nothing of single requests or a moving time edge.
  if (filters.requestId.trim() !== '' || filters.since !== '') return null;
  let counts: { requests: number; errors: number } | undefined;
  if (filters.type !== '' && filters.model !== '') return null;
  if (filters.type !== '') counts = summary.event_types[filters.type] ?? { requests: 0, errors: 0 };
  else if (filters.model !== '') counts = summary.models[filters.model] ?? { requests: 0, errors: 0 };
  else counts = { requests: summary.overall.total_requests, errors: summary.overall.total_errors };
  if (filters.outcome === 'error') return counts.errors;
  if (filters.outcome === 'success') return counts.requests - counts.errors;
  return counts.requests;
}
