import type { PartHash } from './blob-hash.ts';
import { LANES } from './md5x4.ts';
import type { PlannedPart } from './part-plan.ts';

/** Parts hashed together: one SIMD pass gives four MD5s for about the CPU of one (md5x4.ts). */
export const MD5_GROUP = LANES;

type HashParts = (parts: Blob[], kind: PartHash, priority: 'now' | 'ahead') => Promise<string[]>;

/**
 * The MD5s of an upload's parts, asked for one part at a time and hashed four neighbours at a time:
 * the first part asked for in a group starts the hash of its whole group (parts 1–4, 5–8, …).
 */
export class PartMd5s {
  private readonly groups = new Map<number, Promise<string[]>>();

  constructor(
    private readonly file: Blob,
    private readonly plan: readonly PlannedPart[],
    private readonly hash: HashParts,
  ) {}

  /** Part `n`'s MD5 (hex); `ahead` when it is wanted only later (it then waits for `now` ones). */
  of(n: number, priority: 'now' | 'ahead' = 'now'): Promise<string> {
    const index = Math.floor((n - 1) / MD5_GROUP);
    let group = this.groups.get(index);
    if (!group) {
      const parts = this.plan.slice(index * MD5_GROUP, (index + 1) * MD5_GROUP);
      group = this.hash(
        parts.map((p) => this.file.slice(p.start, p.end)),
        'md5',
        priority,
      );
      group.catch(() => {}); // awaited by each part that asks; after a stop, maybe by nobody
      this.groups.set(index, group);
    }
    return group.then((hexes) => hexes[(n - 1) % MD5_GROUP]!);
  }
}
