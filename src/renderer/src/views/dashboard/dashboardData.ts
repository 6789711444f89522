import { createEffect, createSignal, on, onCleanup, type Accessor } from 'solid-js';
import type { DiffusionMonitorApi } from '../../../../shared/api';
import type { MetricsSeries, TimeWindowKey } from '../../../../shared/series';
import type { MetricsSummary } from '../../../../shared/summary';
import { describeError } from '../../api/client';

/** Refetch at most this often while updates stream in. */
const MIN_INTERVAL_MS = 1000;
/** Refetch this often without updates, so the time axis keeps moving. */
const IDLE_REFRESH_MS = 30_000;

export interface DashboardData {
  summary: Accessor<MetricsSummary | null>;
  series: Accessor<MetricsSeries | null>;
  /** All-time request count, known when the window is empty (to tell "nothing yet" from "quiet"). */
  allTimeRequests: Accessor<number | null>;
  error: Accessor<string | null>;
  loading: Accessor<boolean>;
  updatedAt: Accessor<number | null>;
}

/**
 * The dashboard's data: summary and bucketed series for the chosen window, reloaded when the
 * window changes and when live updates arrive (throttled), never per event.
 */
export function createDashboardData(api: DiffusionMonitorApi, window: Accessor<TimeWindowKey>, tick: Accessor<number>): DashboardData {
  const [summary, setSummary] = createSignal<MetricsSummary | null>(null);
  const [series, setSeries] = createSignal<MetricsSeries | null>(null);
  const [allTimeRequests, setAllTimeRequests] = createSignal<number | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(true);
  const [updatedAt, setUpdatedAt] = createSignal<number | null>(null);

  let running = false;
  let again = false;
  let lastStart = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const load = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    lastStart = Date.now();
    const w = window();
    const [s, t] = await Promise.all([api.summary(w), api.series(w)]);
    running = false;
    if (w !== window()) {
      void load();
      return;
    }
    if (!s.ok || !t.ok) {
      setError(describeError(!s.ok ? s.error : (t as Extract<typeof t, { ok: false }>).error));
    } else {
      setSummary(s.value);
      setSeries(t.value);
      setError(null);
      setUpdatedAt(Date.now() / 1000);
      if (s.value.overall.total_requests === 0 && w !== 'all') {
        const all = await api.summary('all');
        setAllTimeRequests(all.ok ? all.value.overall.total_requests : null);
      } else {
        setAllTimeRequests(s.value.overall.total_requests > 0 ? s.value.overall.total_requests : 0);
      }
    }
    setLoading(false);
    if (again) {
      again = false;
      schedule();
    }
  };

  const schedule = (): void => {
    if (timer) return;
    const wait = Math.max(0, MIN_INTERVAL_MS - (Date.now() - lastStart));
    timer = setTimeout(() => {
      timer = undefined;
      void load();
    }, wait);
  };

  createEffect(
    on(window, () => {
      setLoading(true);
      void load();
    }),
  );
  createEffect(on(tick, schedule, { defer: true }));
  const idle = setInterval(schedule, IDLE_REFRESH_MS);
  onCleanup(() => {
    clearInterval(idle);
    if (timer) clearTimeout(timer);
  });

  return { summary, series, allTimeRequests, error, loading, updatedAt };
}
