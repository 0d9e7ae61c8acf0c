// The writes-in-flight window: never more than its width at once; `exclusive` runs alone (no other task
// in flight, none started meanwhile), also when two tasks ask at once; a failure surfaces in drain.
import { expect, test } from "bun:test";
import { createPipeline, inFlightFor } from "../../src/restore/pipeline.ts";

test("in flight: as many as 5 requests/s needs at the observed latency, within bounds", () => {
  expect(inFlightFor(0)).toBe(1);
  expect(inFlightFor(150)).toBe(2);
  expect(inFlightFor(600)).toBe(4);
  expect(inFlightFor(60_000)).toBe(12);
});

test("never more tasks at once than the width", async () => {
  const pipeline = createPipeline(() => 3);
  let running = 0;
  let most = 0;
  for (let i = 0; i < 12; i++)
    await pipeline.add(async () => {
      most = Math.max(most, ++running);
      await Bun.sleep(5);
      running--;
    });
  await pipeline.drain();
  expect(most).toBe(3);
});

test("exclusive runs alone, even when two tasks ask for it at once", async () => {
  const pipeline = createPipeline(() => 4);
  let running = 0;
  const alone: boolean[] = [];
  const task = (exclusive: boolean) => async () => {
    running++;
    await Bun.sleep(3);
    if (exclusive) {
      running--; // waiting to be exclusive counts as quiet
      await pipeline.exclusive(async () => {
        alone.push(running === 0);
        await Bun.sleep(3);
      });
      running++;
    }
    await Bun.sleep(3);
    running--;
  };
  for (const exclusive of [false, true, false, true, false, false, false]) await pipeline.add(task(exclusive));
  await pipeline.drain();
  expect(alone).toEqual([true, true]);
});

test("the first failure is thrown by drain, and no task starts after it", async () => {
  const pipeline = createPipeline(() => 2);
  let started = 0;
  await pipeline.add(async () => {
    started++;
    throw new Error("refused");
  });
  await Bun.sleep(1);
  await expect(pipeline.add(async () => void started++)).rejects.toThrow("refused");
  await expect(pipeline.drain()).rejects.toThrow("refused");
  expect(started).toBe(1);
});
