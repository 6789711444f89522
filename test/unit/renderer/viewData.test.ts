import { createRoot, createSignal } from 'solid-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { failure, ok, type DiffusionMonitorApi, type EventsPage, type RunOutcome, type StreamHandle } from '../../../src/shared/api';
import type { EventsQuery, RunRequest } from '../../../src/shared/apiSchemas';
import type { PerformanceEvent } from '../../../src/shared/events';
import type { StreamFrame } from '../../../src/shared/frames';
import type { MetricsSeries, TimeWindowKey } from '../../../src/shared/series';
import type { MetricsSummary } from '../../../src/shared/summary';
import { createDashboardData } from '../../../src/renderer/src/views/dashboard/dashboardData';
import { createEventsPages, NO_FILTERS, PAGE_SIZE, type EventFilters } from '../../../src/renderer/src/views/events/eventsData';
import { createPlaygroundRun } from '../../../src/renderer/src/views/playground/playgroundData';

/** Lets pending promise callbacks run (the data functions await the API). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

function summaryOf(total: number): MetricsSummary {
  return { overall: { total_requests: total } } as unknown as MetricsSummary;
}
const SERIES = { requests: [] } as unknown as MetricsSeries;

function event(id: number): PerformanceEvent {
  return { id, model_id: 'm', user_id: 'u', event_type: 'diffusion_generate', duration: 1, timestamp: id, metadata: {} };
}

let dispose: (() => void) | undefined;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  dispose?.();
  dispose = undefined;
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('createDashboardData', () => {
  it('loads the window, reloads when it changes, and throttles live ticks to one reload a second', async () => {
    const asked: string[] = [];
    const api = {
      summary: async (w: TimeWindowKey) => {
        asked.push(`summary:${w}`);
        return ok(summaryOf(w === 'all' ? 9 : 0));
      },
      series: async (w: TimeWindowKey) => {
        asked.push(`series:${w}`);
        return ok(SERIES);
      },
    } as unknown as DiffusionMonitorApi;
    const [window, setWindow] = createSignal<TimeWindowKey>('1h');
    const [tick, setTick] = createSignal(0);
    const data = createRoot((d) => {
      dispose = d;
      return createDashboardData(api, window, tick);
    });
    await settle();
    // An empty window asks for the all-time count, to tell "nothing yet" from "quiet".
    expect(asked).toEqual(['summary:1h', 'series:1h', 'summary:all']);
    expect(data.loading()).toBe(false);
    expect(data.allTimeRequests()).toBe(9);
    expect(data.error()).toBeNull();

    asked.length = 0;
    setWindow('all');
    await settle();
    expect(asked).toEqual(['summary:all', 'series:all']);

    asked.length = 0;
    setTick(1);
    setTick(2);
    setTick(3);
    await settle();
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toEqual(['summary:all', 'series:all']);
  });

  it('shows a failed load as an error and keeps nothing stale', async () => {
    const api = {
      summary: async () => failure('network', 'cannot reach the server'),
      series: async () => ok(SERIES),
    } as unknown as DiffusionMonitorApi;
    const data = createRoot((d) => {
      dispose = d;
      return createDashboardData(
        api,
        () => '1h',
        () => 0,
      );
    });
    await settle();
    expect(data.error()).toMatch(/cannot reach the server/);
    expect(data.summary()).toBeNull();
  });
});

describe('createEventsPages', () => {
  it('pages by keyset, passes the filters, and walks back with newer', async () => {
    const queries: EventsQuery[] = [];
    const api = {
      events: async (query: EventsQuery): Promise<ReturnType<typeof ok<EventsPage>>> => {
        queries.push(query);
        return ok(query.before === undefined ? { events: [event(3), event(2)], nextBefore: 2 } : { events: [event(1)], nextBefore: null });
      },
    } as unknown as DiffusionMonitorApi;
    const [filters, setFilters] = createSignal<EventFilters>(NO_FILTERS);
    const [tick, setTick] = createSignal(0);
    const pages = createRoot((d) => {
      dispose = d;
      return createEventsPages(api, filters, tick);
    });
    await settle();
    expect(queries).toEqual([{ limit: PAGE_SIZE }]);
    expect(pages.events().map((e) => e.id)).toEqual([3, 2]);
    expect(pages.hasOlder()).toBe(true);

    pages.older();
    await settle();
    expect(queries.at(-1)).toEqual({ limit: PAGE_SIZE, before: 2 });
    expect(pages.page()).toBe(1);
    expect(pages.hasOlder()).toBe(false);
    // Deeper pages count new events instead of jumping.
    setTick(1);
    await settle();
    expect(pages.newSince()).toBe(1);
    expect(queries).toHaveLength(2);

    pages.newer();
    await settle();
    expect(pages.page()).toBe(0);
    expect(queries.at(-1)).toEqual({ limit: PAGE_SIZE });

    setFilters({ ...NO_FILTERS, type: 'diffusion_generate', model: 'm', outcome: 'error' });
    await settle();
    expect(queries.at(-1)).toEqual({ limit: PAGE_SIZE, type: 'diffusion_generate', model: 'm', outcome: 'error' });

    setFilters({ ...NO_FILTERS, requestId: '  req-7 ' });
    await settle();
    expect(queries.at(-1)).toEqual({ limit: PAGE_SIZE, request_id: 'req-7' });
  });
});

describe('createPlaygroundRun', () => {
  it('collects step frames, publishes them once per animation frame, and ends with the outcome', async () => {
    const frames: number[] = [];
    vi.stubGlobal('requestAnimationFrame', (callback: () => void) => {
      frames.push(1);
      return setTimeout(callback, 16);
    });
    let emit: (frame: StreamFrame) => void = () => {};
    let finish: (outcome: RunOutcome) => void = () => {};
    const api = {
      run: (_request: RunRequest, onFrame: (frame: StreamFrame) => void): StreamHandle<RunOutcome> => {
        emit = onFrame;
        return { result: new Promise((resolve) => (finish = (outcome) => resolve(ok(outcome)))), cancel: () => {} };
      },
    } as unknown as DiffusionMonitorApi;
    const run = createRoot((d) => {
      dispose = d;
      return createPlaygroundRun(api);
    });
    const done = run.start({ mode: 'generate', body: { prompt: 'x' } });
    expect(run.phase()).toBe('running');
    emit({ type: 'status', message: 'loading model' });
    expect(run.status()).toBe('loading model');
    for (let step = 1; step <= 3; step += 1) emit({ type: 'step', step, total_steps: 3, text: `s${step}`, masked: 3 - step });
    expect(frames).toHaveLength(1);
    expect(run.steps()).toEqual([]);
    await vi.advanceTimersByTimeAsync(16);
    expect(run.steps().map((s) => s.step)).toEqual([1, 2, 3]);
    finish({ text: 'done', generationTime: 0.1 } as unknown as RunOutcome);
    await done;
    expect(run.phase()).toBe('done');
    expect(run.outcome()).toMatchObject({ text: 'done' });
  });

  it('tells a cancelled run from a failed one', async () => {
    const results = [failure('cancelled', 'cancelled'), failure('timeout', 'the backend did not answer')];
    const api = {
      run: () => ({ result: Promise.resolve(results.shift()), cancel: () => {} }),
    } as unknown as DiffusionMonitorApi;
    const run = createRoot((d) => {
      dispose = d;
      return createPlaygroundRun(api);
    });
    await run.start({ mode: 'generate', body: { prompt: 'x' } });
    expect(run.phase()).toBe('cancelled');
    await run.start({ mode: 'generate', body: { prompt: 'x' } });
    expect(run.phase()).toBe('failed');
    expect(run.error()).toMatch(/did not answer/);
  });
});
