import type { IdMap, RawId } from './id-map.js';
import { userItemsCsr, itemsOfUser, type UserItemsCsr } from './user-items.js';

/** (user, item) pairs in dense indices. */
export interface UserItemPairs {
  users: Int32Array;
  items: Int32Array;
}

/**
 * Everything each user is known to have rated — the training ratings and any further pairs (the
 * validation part of the data the model was built from, a test file) — as one per-user CSR built once.
 * Every path that recommends to a known user leaves these out through {@link seenItemsOf}, so "seen"
 * means the same thing in the CLI, the library, `rank --user` and the service.
 */
export function seenIndex(train: UserItemPairs, nUsers: number, ...more: (UserItemPairs | undefined)[]): UserItemsCsr {
  const parts = [train, ...more.filter((p): p is UserItemPairs => p !== undefined && p.users.length > 0)];
  if (parts.length === 1) return userItemsCsr(train.users, train.items, nUsers);
  const n = parts.reduce((s, p) => s + p.users.length, 0);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    users.set(p.users, at);
    items.set(p.items, at);
    at += p.users.length;
  }
  return userItemsCsr(users, items, nUsers);
}

/**
 * User u's seen items (ascending, unique) with `extra` dense items merged in — what a caller knows beyond
 * the model, such as the service database's ratings. u may be -1 for someone the model never saw.
 */
export function seenItemsOf(csr: UserItemsCsr, u: number, extra?: Int32Array): Int32Array {
  const own = u >= 0 ? itemsOfUser(csr, u) : new Int32Array(0);
  if (!extra || extra.length === 0) return own;
  const merged = new Int32Array(own.length + extra.length);
  merged.set(own);
  merged.set(extra, own.length);
  merged.sort();
  let out = 0;
  for (let t = 0; t < merged.length; t++) if (t === 0 || merged[t] !== merged[t - 1]) merged[out++] = merged[t]!;
  return merged.slice(0, out);
}

/** Dense indices of the raw movie ids a model knows (a database may hold movies the model has never seen). */
export function knownItems(itemIds: IdMap, ids: readonly RawId[] | undefined): Int32Array | undefined {
  if (!ids || ids.length === 0) return undefined;
  const out: number[] = [];
  for (const id of ids) {
    const i = itemIds.indexOf(id);
    if (i >= 0) out.push(i);
  }
  return Int32Array.from(out);
}
