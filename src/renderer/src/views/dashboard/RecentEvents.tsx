import { For, Show } from 'solid-js';
import type { PerformanceEvent } from '../../../../shared/events';
import { OutcomeBadge } from '../../components/OutcomeBadge';
import { endpointLabel, formatAgo, formatCount, formatSeconds, modelLabel } from '../../format';

/** The newest requests, one line each. Takes data only. */
export function RecentEvents(props: { events: PerformanceEvent[]; now: number }) {
  return (
    <Show when={props.events.length > 0} fallback={<p class="panel-empty">Nothing recorded yet.</p>}>
      <div class="table-scroll">
        <table class="table compact">
          <thead>
            <tr>
              <th>When</th>
              <th>Endpoint</th>
              <th>Model</th>
              <th>Outcome</th>
              <th class="num">Duration</th>
              <th class="num">Steps</th>
              <th class="num">Tokens</th>
              <th>Request</th>
            </tr>
          </thead>
          <tbody>
            <For each={props.events}>
              {(event) => (
                <tr>
                  <td class="muted nowrap">{formatAgo(event.timestamp, props.now)}</td>
                  <td>
                    <span class="endpoint-chip">{endpointLabel(event.event_type)}</span>
                  </td>
                  <td class="mono ellipsis">{modelLabel(event.model_id, event.metadata.error_type ?? null)}</td>
                  <td>
                    <OutcomeBadge event={event} />
                  </td>
                  <td class="num">{formatSeconds(event.duration)}</td>
                  <td class="num">{typeof event.metadata.steps === 'number' ? formatCount(event.metadata.steps) : '—'}</td>
                  <td class="num">{typeof event.metadata.token_count === 'number' ? formatCount(event.metadata.token_count) : '—'}</td>
                  <td class="mono muted ellipsis">{typeof event.metadata.request_id === 'string' ? event.metadata.request_id.slice(0, 8) : '—'}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
    </Show>
  );
}
