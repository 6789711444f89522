import { createEffect, createSignal, on, type Accessor } from 'solid-js';
import type { DiffusionMonitorApi, EventsQuery } from '../../../../shared/api';
import type { PerformanceEvent } from '../../../../shared/events';
import { describeError } from '../../api/client';

export interface EventFilters {
  type: string;
  model: string;
  outcome: '' | 'success' | 'error';
}

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
    };
    setLoading(true);
    const result = await api.events(query);
    setLoading(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setError(null);
    setEvents(result.value.events);
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
