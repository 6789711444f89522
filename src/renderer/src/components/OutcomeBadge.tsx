import type { PerformanceEvent } from '../../../shared/events';

/** Whether a stored event failed, read the way the store counts it. */
export function eventFailed(event: PerformanceEvent): boolean {
  const m = event.metadata;
  const errorType: unknown = m.error_type;
  return m.success === false || (m.success as unknown) === 0 || (typeof errorType === 'string' && errorType !== '');
}

export function OutcomeBadge(props: { event: PerformanceEvent }) {
  return (
    <span class="badge" classList={{ 'badge-ok': !eventFailed(props.event), 'badge-bad': eventFailed(props.event) }}>
      {eventFailed(props.event) ? String(props.event.metadata.error_type ?? 'failed') : 'ok'}
    </span>
  );
}
