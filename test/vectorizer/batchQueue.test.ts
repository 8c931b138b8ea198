import { describe, expect, it } from "vitest";
import { BatchQueue } from "../../vectorizer/batchQueue";

describe("BatchQueue", () => {
  it("holds at most `capacity` items: the producer waits for a taker", async () => {
    const queue = new BatchQueue<number>(2);
    const accepted: number[] = [];
    const producer = (async () => {
      for (let i = 1; i <= 4; i += 1) if (await queue.put(i)) accepted.push(i);
      queue.close();
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect(accepted).toEqual([1, 2]);
    expect(await queue.take()).toBe(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(accepted).toEqual([1, 2, 3]);
    expect([await queue.take(), await queue.take(), await queue.take(), await queue.take()]).toEqual([2, 3, 4, null]);
    await producer;
  });

  it("hands an item straight to a waiting taker", async () => {
    const queue = new BatchQueue<string>(1);
    const taken = queue.take();
    expect(await queue.put("a")).toBe(true);
    expect(await taken).toBe("a");
  });

  it("stops the producer and drops queued items on abort", async () => {
    const queue = new BatchQueue<number>(1);
    expect(await queue.put(1)).toBe(true);
    const blocked = queue.put(2);
    queue.abort();
    expect(await blocked).toBe(false);
    expect(await queue.take()).toBeNull();
  });
});
