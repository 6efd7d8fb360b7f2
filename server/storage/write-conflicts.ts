import { setTimeout as sleep } from 'node:timers/promises';

const BASE_MS = 10;
const CAP_MS = 400;

/** How long to wait after the `attempt`-th lost conditional write, for a draw in [0, 1). */
export const conflictBackOffMs = (attempt: number, draw: number) => Math.floor(draw * Math.min(CAP_MS, BASE_MS * 2 ** attempt));

/**
 * The wait before a conditional write lost to another writer is read and tried again: a random
 * time up to an exponentially growing ceiling ("full jitter", as the AWS SDKs retry), so that
 * writers that collided do not collide again in step. Without it, 8 attempts were used up in a few
 * milliseconds when many instances counted one share link's downloads at once.
 */
export function backOffAfterConflict(attempt: number): Promise<void> {
  return sleep(conflictBackOffMs(attempt, Math.random()));
}
