import { CollabError } from '../core/errors.js';

/**
 * Solves A x = b in place for a symmetric positive definite d×d A (row-major float64) by Cholesky
 * A = L Lᵀ; A is overwritten with L and b with x. Throws when A is not positive definite.
 */
export function choleskySolve(A: Float64Array, b: Float64Array, d: number): void {
  choleskyFactor(A, d);
  choleskySubstitute(A, b, d);
}

/** Overwrites the lower triangle of a symmetric positive definite d×d A with L, A = L Lᵀ. */
export function choleskyFactor(A: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j]!;
    for (let m = 0; m < j; m++) s -= A[j * d + m]! * A[j * d + m]!;
    if (!(s > 0)) {
      throw new CollabError('INVALID_OPTION', 'the fold-in system is singular (too few ratings for the number of factors); use lambda > 0', { field: 'lambda' });
    }
    const ljj = Math.sqrt(s);
    A[j * d + j] = ljj;
    for (let row = j + 1; row < d; row++) {
      let t = A[row * d + j]!;
      for (let m = 0; m < j; m++) t -= A[row * d + m]! * A[j * d + m]!;
      A[row * d + j] = t / ljj;
    }
  }
}

/** Solves L Lᵀ x = b in place for the factor L of {@link choleskyFactor}. */
export function choleskySubstitute(L: Float64Array, b: Float64Array, d: number): void {
  // L y = b, then Lᵀ x = y
  for (let row = 0; row < d; row++) {
    let t = b[row]!;
    for (let m = 0; m < row; m++) t -= L[row * d + m]! * b[m]!;
    b[row] = t / L[row * d + row]!;
  }
  for (let row = d - 1; row >= 0; row--) {
    let t = b[row]!;
    for (let m = row + 1; m < d; m++) t -= L[m * d + row]! * b[m]!;
    b[row] = t / L[row * d + row]!;
  }
}
