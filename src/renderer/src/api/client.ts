import { BRIDGE_NAME, type ApiError, type DiffusionMonitorApi } from '../../../shared/api';
import { createHttpTransport, type HttpTransportOptions } from './httpTransport';

/**
 * The one API object every view uses: the preload's bridge in the desktop app, HTTP + SSE in a
 * browser. Views never know which.
 */
export function connectApi(options: HttpTransportOptions): DiffusionMonitorApi {
  const bridged = (window as unknown as Record<string, DiffusionMonitorApi | undefined>)[BRIDGE_NAME];
  return bridged ?? createHttpTransport(options);
}

const PREFIX: Partial<Record<ApiError['type'], string>> = {
  model_unavailable: 'No model available',
  network: 'Cannot reach the backend',
  timeout: 'The backend took too long',
  backend: 'The backend answered with an error',
  validation: 'Not accepted',
  rate_limited: 'Too many requests at once',
  cancelled: 'Cancelled',
  internal: 'Something went wrong inside Diffusion Monitor',
};

/** An error as a sentence a user can act on. */
export function describeError(error: ApiError): string {
  const prefix = PREFIX[error.type];
  const message = error.message.replace(/^\w/, (c) => c.toUpperCase());
  return prefix ? `${prefix}: ${message.replace(/^\w/, (c) => c.toLowerCase())}` : message;
}
