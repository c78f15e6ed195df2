/**
 * API Gateway's stage throttling: a token bucket with a steady rate (requests per second) and a
 * burst (bucket size). A request takes a token or is answered 429. Written here rather than taken
 * from @fastify/rate-limit because that plugin counts per client in fixed windows, and the
 * contract is API Gateway's one bucket for the whole stage.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (answer 429). */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
