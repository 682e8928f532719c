import { FIRST_FREE } from '../core/lockstep-worker.js';
import type { RowsCsr } from './ials-kernel.js';

/** Jobs of the iALS worker (QUIT, 3, is the lockstep one): solve its share of the user or item rows, or add its share of a Gramian. */
export const USERS = 1;
export const ITEMS = 2;
export const GRAM_X = 4;
export const GRAM_Y = 5;
/** Job words after the lockstep ones: the worker's rows [W_START, W_END). */
export const W_START = FIRST_FREE;
export const W_END = FIRST_FREE + 1;

/** What the iALS worker receives: shared views of the factor tables, the Gramians, the half-step parameters and both CSRs. */
export interface IalsWorkerData {
  ctl: Int32Array;
  k: number;
  nUsers: number;
  nItems: number;
  X: Float32Array;
  Y: Float32Array;
  /** The Gramian the solves read. */
  G: Float64Array;
  /** The worker's share of the next Gramian. */
  G2: Float64Array;
  params: Float64Array;
  userRows: RowsCsr;
  itemRows: RowsCsr;
}
