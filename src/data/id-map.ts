import { CollabError } from '../core/errors.js';

/** A raw external id as it appears in a file: an integer where the id is numeric, else the string. */
export type RawId = number | string;

/** What a lookup does with an id the map has never seen. */
export type UnknownIdPolicy = 'error' | 'none';

/** Ids above this are kept in the Map fallback instead of the dense table. */
const DENSE_LIMIT = 1 << 26;

/** Parses a CLI/HTTP id: integer-looking text becomes a number, anything else stays a string. */
export function parseRawId(text: string): RawId {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}

/**
 * Raw id ↔ dense index, both ways (LensKit's Vocabulary). Dense indices are given in order of first
 * appearance. Non-negative integer ids use a growable Int32Array table (no hashing on the hot path of
 * file loading); other ids fall back to a Map.
 */
export class IdMap {
  private table = new Int32Array(1024).fill(-1);
  private readonly other = new Map<RawId, number>();
  private readonly rawIds: RawId[] = [];

  /** Number of distinct ids. */
  get size(): number {
    return this.rawIds.length;
  }

  /** Dense index of an integer id, adding it if new (the loader's fast path). */
  addInt(id: number): number {
    if (id >= 0 && id < DENSE_LIMIT) {
      if (id >= this.table.length) this.growTable(id);
      const known = this.table[id]!;
      if (known >= 0) return known;
      const index = this.rawIds.length;
      this.table[id] = index;
      this.rawIds.push(id);
      return index;
    }
    return this.addOther(id);
  }

  /** Dense index of any id, adding it if new. */
  add(id: RawId): number {
    return typeof id === 'number' && Number.isInteger(id) ? this.addInt(id) : this.addOther(id);
  }

  private addOther(id: RawId): number {
    const known = this.other.get(id);
    if (known !== undefined) return known;
    const index = this.rawIds.length;
    this.other.set(id, index);
    this.rawIds.push(id);
    return index;
  }

  private growTable(id: number): void {
    let n = this.table.length;
    while (n <= id) n *= 2;
    const next = new Int32Array(Math.min(n, DENSE_LIMIT)).fill(-1);
    next.set(this.table);
    this.table = next;
  }

  /** Dense index of `id`, or -1 when unknown. */
  indexOf(id: RawId): number {
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < DENSE_LIMIT) {
      return id < this.table.length ? this.table[id]! : -1;
    }
    return this.other.get(id) ?? -1;
  }

  /** Whether the map knows `id`. */
  has(id: RawId): boolean {
    return this.indexOf(id) >= 0;
  }

  /**
   * Dense index of `id` under a policy: 'error' throws UNKNOWN_USER/UNKNOWN_ITEM (per `what`) with a
   * hint, 'none' returns -1.
   */
  lookup(id: RawId, policy: UnknownIdPolicy = 'error', what: 'user' | 'item' = 'item'): number {
    const index = this.indexOf(id);
    if (index < 0 && policy === 'error') {
      throw new CollabError(
        what === 'user' ? 'UNKNOWN_USER' : 'UNKNOWN_ITEM',
        `unknown ${what} id ${JSON.stringify(id)}: it is not in the training data ` +
          `(it may only occur in the validation split); ` +
          (what === 'user' ? 'give a new user\'s ratings instead (fold-in)' : 'retrain on data that has it, or use a hybrid model that knows it by its metadata'),
        { field: what === 'user' ? 'userId' : 'itemId' },
      );
    }
    return index;
  }

  /** Raw id of a dense index. */
  idOf(index: number): RawId {
    const id = this.rawIds[index];
    if (id === undefined) throw new RangeError(`index ${index} is outside 0..${this.rawIds.length - 1}`);
    return id;
  }

  /** All raw ids in dense order (a copy). */
  ids(): RawId[] {
    return this.rawIds.slice();
  }

  /** Builds a map from raw ids listed in dense order. */
  static fromIds(ids: readonly RawId[]): IdMap {
    const map = new IdMap();
    for (const id of ids) {
      if (map.has(id)) throw new CollabError('BAD_FILE', `duplicate id ${JSON.stringify(id)} in id list`);
      map.add(id);
    }
    return map;
  }
}
