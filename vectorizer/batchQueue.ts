/**
 * A bounded hand-off between the corpus reader and the workers: the reader prepares the next
 * batches while requests are in flight (so a worker never waits for chunking), and stops when
 * `capacity` batches are ready, which bounds memory whatever the corpus size.
 */
export class BatchQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: ((item: T | null) => void)[] = [];
  private readonly putters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  /** Waits for room; returns false once the queue was aborted (the producer should stop). */
  async put(item: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity && this.takers.length === 0) {
      await new Promise<void>((resolve) => this.putters.push(resolve));
    }
    if (this.closed) return false;
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
    return true;
  }

  /** The next item, or null when the queue is closed and drained, or aborted. */
  async take(): Promise<T | null> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.putters.shift()?.();
      return item;
    }
    if (this.closed) return null;
    return new Promise<T | null>((resolve) => this.takers.push(resolve));
  }

  /** No more items will come; takers get what is left, then null. */
  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker(null);
    for (const putter of this.putters.splice(0)) putter();
  }

  /** Stop everything now: pending items are dropped. */
  abort(): void {
    this.items.length = 0;
    this.close();
  }
}
