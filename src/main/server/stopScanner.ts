/**
 * Releases streamed text as it arrives, except a tail that could be the start of a stop
 * sequence; once a sequence appears, nothing after it is released.
 */
export class StopScanner {
  private pending = '';
  private released = '';
  private stopped = false;

  constructor(private readonly stops: readonly string[] | null) {}

  /** The part of `piece` (and of what was held back) that is safe to send now. */
  push(piece: string): string {
    if (this.stopped) return '';
    this.pending += piece;
    let safe: string;
    const stops = this.stops ?? [];
    const hit = stops.map((s) => this.pending.indexOf(s)).filter((at) => at >= 0);
    if (hit.length > 0) {
      this.stopped = true;
      safe = this.pending.slice(0, Math.min(...hit));
      this.pending = '';
    } else {
      let hold = 0;
      for (const stop of stops) {
        for (let n = Math.min(stop.length - 1, this.pending.length); n > hold; n -= 1) {
          if (this.pending.endsWith(stop.slice(0, n))) {
            hold = n;
            break;
          }
        }
      }
      safe = this.pending.slice(0, this.pending.length - hold);
      this.pending = this.pending.slice(this.pending.length - hold);
    }
    this.released += safe;
    return safe;
  }

  /** What of the final answer has not been released yet (all of it when the backend sent no deltas). */
  rest(finalText: string): string {
    return finalText.startsWith(this.released) ? finalText.slice(this.released.length) : '';
  }
}
