/**
 * Group commit: calls that arrive while a commit is in progress wait and are written together
 * in the next one, so N concurrent one-job calls cost about one durable commit instead of N,
 * and a lone call is never delayed by a timer (it is flushed within two turns of the loop).
 * Measured in docs/performance-log.md ("Let streams fill a group").
 */
export class GroupCommitter<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  private scheduled = false;

  /**
   * `flush` gets a batch and answers each item in order; if it throws, every item in it fails.
   * While the queue is still growing from one turn of the loop to the next (a stream's messages
   * arrive one per turn), the flush waits another turn, up to `maxWaitMs`, so streams fill a group.
   */
  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 2000,
    private readonly maxWaitMs = 2,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Waits while the queue grows (see the constructor), then flushes one batch. */
  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    const since = performance.now();
    // The first check always sees growth, so a lone call waits one extra turn (microseconds, no timer).
    let seen = 0;
    const check = (): void => {
      const grown = this.queue.length > seen;
      seen = this.queue.length;
      if (grown && seen < this.maxBatch && performance.now() - since < this.maxWaitMs) {
        setImmediate(check);
        return;
      }
      this.scheduled = false;
      void this.flushOne();
    };
    setImmediate(check);
  }

  /**
   * Flushes the oldest batch. What arrived meanwhile is scheduled again rather than flushed at
   * once, so the events a stream sends while a commit runs gather into one group instead of
   * following it in groups of two or three.
   */
  private async flushOne(): Promise<void> {
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const results = await this.flush(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as O));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running = false;
    }
    if (this.queue.length >= this.maxBatch) void this.flushOne();
    else if (this.queue.length > 0) this.schedule();
  }
}
