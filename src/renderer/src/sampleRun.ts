import type { AppInfo } from '../../shared/api';
import type { RunRequest } from '../../shared/apiSchemas';

/**
 * The one-click sample run offered by the empty states: the README's first-run infill, on the
 * built-in model, with the default parameters. Its requests are recorded like any other.
 */
export const SAMPLE_RUN: RunRequest = {
  mode: 'infill',
  body: { prefix: 'def add(a, b):\n    ', suffix: '\n', user_id: 'sample' },
};

/** How the sidebar names what serves the diffusion routes. */
export function backendLabel(backend: AppInfo['backend']): string {
  if (backend.kind === 'builtin') return 'built-in model';
  if (backend.kind === 'none' || backend.url === null) return 'none';
  return `${backend.kind} · ${backend.url.replace(/^https?:\/\//, '')}`;
}
