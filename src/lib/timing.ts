/** Collects the request's total and database time for the `Server-Timing` header. */
export class Timing {
  readonly startedAt = performance.now();
  dbMs = 0;
  dbCalls = 0;

  recordDb(ms: number): void {
    this.dbMs += ms;
    this.dbCalls += 1;
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  header(): string {
    const total = this.elapsedMs().toFixed(1);
    return `total;dur=${total}, db;dur=${this.dbMs.toFixed(1)};desc="${this.dbCalls} round trips"`;
  }
}
