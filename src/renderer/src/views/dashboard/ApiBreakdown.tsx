import { For, Show } from 'solid-js';
import type { ApiStats } from '../../../../shared/summary';
import { Panel } from '../../components/Panel';
import { formatCount, formatPercent, successRateClasses } from '../../format';

/** How each door reads on the dashboard. */
const API_LABELS: Record<string, string> = {
  diffusion: 'Diffusion API (/api/diffusion)',
  openai_chat: 'OpenAI chat (/v1/chat/completions)',
  openai_completions: 'OpenAI completions (/v1/completions)',
  fim: 'FIM (/v1/fim/completions)',
  llamacpp_infill: 'llama.cpp infill (/infill)',
  other: 'Other (rows from other programs)',
};

/** Requests per API the editors and tools came through: our routes and the OpenAI-compatible front door. */
export function ApiBreakdown(props: { apis: Record<string, ApiStats> | undefined }) {
  const rows = () =>
    Object.entries(props.apis ?? {})
      .filter(([, stats]) => stats.requests > 0)
      .sort((a, b) => b[1].requests - a[1].requests);
  return (
    <Panel title="Requests by API" hint="in this window" span={12} testId="api-table">
      <Show when={rows().length > 0} fallback={<p class="panel-empty">No requests in this window.</p>}>
        <div class="table-scroll">
          <table class="table compact">
            <thead>
              <tr>
                <th>API</th>
                <th class="num">Requests</th>
                <th class="num">Errors</th>
                <th class="num">Success</th>
                <th class="num">Tokens</th>
              </tr>
            </thead>
            <tbody>
              <For each={rows()}>
                {([api, stats]) => (
                  <tr>
                    <td>
                      <span class="endpoint-chip">{API_LABELS[api] ?? api}</span>
                    </td>
                    <td class="num">{formatCount(stats.requests)}</td>
                    <td class="num">{formatCount(stats.errors)}</td>
                    <td class="num" classList={successRateClasses(stats.success_rate)}>
                      {formatPercent(stats.success_rate)}
                    </td>
                    <td class="num">{formatCount(stats.tokens)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </Panel>
  );
}
