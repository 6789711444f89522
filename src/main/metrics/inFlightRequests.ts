import { ENDPOINTS, type Endpoint } from '../../shared/endpoints';

/**
 * Requests in progress per endpoint, exported as the `diffusion_llm_in_flight_requests` gauge.
 * Live state only: it is never stored, and it restarts at zero with the process.
 *
 * Call `start(endpoint)` when a diffusion request is accepted and `end(endpoint)` exactly once
 * when its response (or stream) is over, whatever the outcome. A surplus `end` is ignored rather
 * than driving the gauge negative.
 */
export class InFlightRequests {
  private readonly counts = new Map<Endpoint, number>();

  start(endpoint: Endpoint): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
  }

  end(endpoint: Endpoint): void {
    const current = this.counts.get(endpoint) ?? 0;
    if (current > 0) this.counts.set(endpoint, current - 1);
  }

  count(endpoint: Endpoint): number {
    return this.counts.get(endpoint) ?? 0;
  }

  /** Every endpoint with its current count (zero included), in `ENDPOINTS` order. */
  snapshot(): Record<Endpoint, number> {
    return Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, this.count(endpoint)])) as Record<Endpoint, number>;
  }

  get total(): number {
    let sum = 0;
    for (const value of this.counts.values()) sum += value;
    return sum;
  }
}
