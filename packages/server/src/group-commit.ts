/**
 * Group commit: callers enqueue writes and wait; the queue is flushed in one storage call (one
 * transaction, one fsync) at the end of the current event-loop turn, or after `windowMs` when a
 * window is configured. While one flush is running new writes gather for the next, so under load
 * batches grow by themselves and throughput is not bounded by one fsync per message.
 *
 * A caller's promise settles only after its batch committed (or failed): the relay acknowledges a
 * sender only then (ARCHITECTURE.md "Durability contract").
 */
import { ApiError } from '@sotto/api';

export interface GroupCommitOptions {
  /** Extra time to gather writes before flushing; 0 flushes at the end of the event-loop turn. */
  readonly windowMs?: number;
  readonly maxBatch: number;
}

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly commit: (items: readonly T[]) => Promise<readonly R[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Queues `item`; resolves with its result once its batch committed. */
  enqueue(item: T): Promise<R> {
    if (this.closed) {
      return Promise.reject(new ApiError('SERVICE_UNAVAILABLE', 'the server is shutting down'));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Writes waiting or in flight. */
  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.flushing !== null) return;
    this.scheduled = true;
    const windowMs = this.options.windowMs ?? 0;
    if (windowMs > 0) setTimeout(() => this.run(), windowMs);
    else setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.flushing !== null || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
  }

  private async flush(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.commit(batch.map((p) => p.item));
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** Refuses new writes and waits until everything queued has been committed or failed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing !== null || this.queue.length > 0) {
      if (this.flushing !== null) await this.flushing;
      else this.run();
    }
  }
}
