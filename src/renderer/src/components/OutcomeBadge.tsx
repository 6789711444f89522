import { failureOf, type PerformanceEvent } from '../../../shared/events';

/** Whether a stored event failed, read the way the store counts it. */
export function eventFailed(event: PerformanceEvent): boolean {
  return failureOf(event.metadata) !== null;
}

export function OutcomeBadge(props: { event: PerformanceEvent }) {
  return (
    <span class="badge" classList={{ 'badge-ok': !eventFailed(props.event), 'badge-bad': eventFailed(props.event) }}>
      {eventFailed(props.event) ? String(props.event.metadata.error_type ?? 'failed') : 'ok'}
    </span>
  );
}
