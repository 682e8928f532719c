/** collab/kernels: the typed-array building blocks: top-k, row similarity, SPD solves and inverses, block scoring. */
export {
  TopKHeap,
  topKForUser,
  topKAllUsers,
  topKRows,
  topKForVector,
  type TopKResult,
  type TopKMatrix,
  type TopKAllOptions,
  type TopKForVectorOptions,
} from '../maths/top-k.js';
export { rowNorms, cachedRowNorms, forgetRowNorms, cosineToAll } from '../recommend/similar.js';
export { choleskySolve } from '../maths/cholesky.js';
export { spdInverse, DenseSpdInverse, denseSpdBytes, type DenseSpdOptions } from '../maths/dense.js';
export { pca, type PcaOptions, type PcaResult } from '../maths/pca.js';
