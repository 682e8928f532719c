import { CollabError, requireInt, requireNumber } from '../core/errors.js';
import { RandomState } from '../core/random.js';
import type { Ratings } from '../data/ratings.js';
import { scratchKernels, type SimdKernelExports } from '../kernels/param-memory.js';
import { makeParam, truncNormal } from './init.js';
import { meanRow } from './scoring.js';
import type { ModelBuffer, Param, RatingModel, UserVectorModel } from './model.js';

/** Options of {@link EmbeddingNN} (fastai's `EmbeddingNN` / `collab_learner(use_nn=True)`). */
export interface EmbeddingNNOptions {
  /** Embedding widths [user, item]; default fastai's rule {@link embSizeRule} of nUsers and nItems. */
  embSizes?: [number, number];
  /** Hidden layer widths, each Linear → ReLU → BatchNorm1d → Dropout; default [100]. */
  layers?: number[];
  /** Dropout probability after each hidden layer: one per layer or one for all; default 0. */
  ps?: number | number[];
  /** Dropout probability on the concatenated embeddings; default 0. */
  embDrop?: number;
  /** Output range: pred = lo + (hi - lo) * sigmoid(x); default [0, 5.5]; null for a plain linear output. */
  yRange?: [number, number] | null;
  /**
   * The dense layers' matrix products: 'wasm' (f32x4 kernels of src/kernels/simd.wat on float32 copies of the
   * activations, weights and gradients) or 'js' (float64 loops). Default 'wasm'; 'js' where wasm SIMD is missing.
   */
  kernels?: 'wasm' | 'js';
}

/** The resolved options, as `config()` returns them and the constructor accepts them back. */
export interface EmbeddingNNConfig {
  /** [user, item] embedding widths. */
  embSizes: [number, number];
  /** Hidden layer widths. */
  layers: number[];
  /** Dropout probability after each hidden layer, one per layer. */
  ps: number[];
  /** Dropout probability on the concatenated embeddings. */
  embDrop: number;
  /** Output range [lo, hi], or null for a linear output. */
  yRange: [number, number] | null;
}

/** fastai's embedding width for a table of n categories: min(600, round(1.6 * n^0.56)). */
export function embSizeRule(n: number): number {
  return Math.min(600, Math.round(1.6 * Math.pow(n, 0.56)));
}

/** PyTorch BatchNorm1d defaults. */
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

/** One hidden block: Linear(nIn → nOut) → ReLU → BatchNorm1d(nOut) → Dropout(p), with its batch buffers. */
interface Hidden {
  nIn: number;
  nOut: number;
  p: number;
  /** nOut × nIn, PyTorch's Linear layout (row j holds unit j's input weights). */
  weight: Param;
  bias: Param;
  bnWeight: Param;
  bnBias: Param;
  runningMean: ModelBuffer;
  runningVar: ModelBuffer;
  /** ReLU outputs a (cap × nOut); a > 0 is also the ReLU's gradient mask. */
  a: Float64Array;
  /** Normalised activations xhat (cap × nOut). */
  xhat: Float64Array;
  /** 1 / sqrt(var + eps) per unit for the current batch. */
  invStd: Float64Array;
  /** Block output = next block's input (cap × nOut). */
  y: Float64Array;
  /** Dropout multipliers (0 or 1 / (1 - p)), cap × nOut; empty when p = 0. */
  mask: Float64Array;
  /** d(loss)/d(y) (cap × nOut). */
  dy: Float64Array;
  /** d(loss)/d(linear output), zero where the ReLU was off (cap × nOut). */
  dz: Float64Array;
  /** d(loss)/d(input) (cap × nIn). */
  dx: Float64Array;
  /** This layer's region of the wasm scratch memory, when the wasm kernels run. */
  scratch?: LayerScratch;
}

/**
 * One hidden layer's float32 operands in the model's wasm scratch memory: byte offsets for the kernels and views
 * for the JS copies in and out. Rows of x, W, dW and dx are padded with zeros to dp floats (a multiple of 4).
 */
interface LayerScratch {
  dp: number;
  x: number;
  w: number;
  bias: number;
  z: number;
  dz: number;
  dx: number;
  gw: number;
  idx: number;
  val: number;
  xV: Float32Array;
  wV: Float32Array;
  biasV: Float32Array;
  zV: Float32Array;
  dzV: Float32Array;
  dxV: Float32Array;
  gwV: Float32Array;
}

/**
 * fastai's EmbeddingNN: user and item embeddings, concatenated, through Linear → ReLU → BatchNorm1d →
 * Dropout blocks, then Linear → sigmoid → yRange. Forward and backward are hand-written batched kernels
 * over preallocated float64 buffers (grown, never per batch, when a larger batch arrives); the dense layers'
 * three products (x Wᵀ, dzᵀ x, dz W), nine tenths of the work, run by default as f32x4 wasm kernels on float32
 * copies in one scratch memory (option `kernels`), which changes results by float32 rounding only.
 *
 *   x0 = drop(concat(U[u], I[i]))
 *   z = W x + b,  a = relu(z),  xhat = (a - mean_B(a)) / sqrt(var_B(a) + eps),  y = drop(gamma xhat + beta)
 *   pred = lo + (hi - lo) * sigmoid(w_out · y_L + b_out)
 *
 * Params, in file order: userFactors, itemFactors (sparse), then per hidden block l: layer{l}.weight
 * (nOut × nIn, PyTorch's layout), layer{l}.bias, bn{l}.weight, bn{l}.bias; then out.weight, out.bias.
 * Buffers: bn{l}.runningMean, bn{l}.runningVar. `seed` fixes the init and the sequence of dropout masks.
 */
export class EmbeddingNN implements RatingModel {
  readonly kind = 'nn' as const;
  readonly params: readonly Param[];
  readonly buffers: readonly ModelBuffer[];
  private readonly cfg: EmbeddingNNConfig;
  private readonly nu: number;
  private readonly ni: number;
  /** Input width of the first block: nu + ni. */
  private readonly d0: number;
  private readonly userEmb: Param;
  private readonly itemEmb: Param;
  private readonly hidden: Hidden[];
  private readonly outW: Param;
  private readonly outB: Param;
  /** Dropout masks come from here, so a seed reproduces a training run. */
  private readonly rng: RandomState;

  /** Rows the batch buffers hold. */
  private cap = 0;
  private bu = new Int32Array(0);
  private bi = new Int32Array(0);
  private br = new Float64Array(0);
  /** Concatenated embeddings (cap × d0). */
  private x0 = new Float64Array(0);
  private mask0 = new Float64Array(0);
  private dx0 = new Float64Array(0);
  /** sigmoid(output) per row, or the raw output when yRange is null. */
  private sig = new Float64Array(0);
  private pred = new Float64Array(0);
  /** Nonzero entries of one row or column of dz, for the sparse backward matmuls. */
  private nzIdx = new Int32Array(0);
  private nzVal = new Float64Array(0);
  /** Whether the dense products should run in wasm (option `kernels`). */
  private readonly wantWasm: boolean;
  /** The kernels bound to the scratch memory; undefined when the JS loops run. */
  private simd: SimdKernelExports | undefined;

  constructor(
    readonly nUsers: number,
    readonly nItems: number,
    options: EmbeddingNNOptions = {},
    seed = 42,
  ) {
    requireInt('nUsers', nUsers, 1);
    requireInt('nItems', nItems, 1);
    this.cfg = resolveOptions(nUsers, nItems, options);
    const [nu, ni] = this.cfg.embSizes;
    this.nu = nu;
    this.ni = ni;
    this.d0 = nu + ni;
    const kernels = options.kernels ?? 'wasm';
    if (kernels !== 'wasm' && kernels !== 'js') {
      throw new CollabError('INVALID_OPTION', `kernels must be "wasm" or "js", got "${String(kernels)}"`, { field: 'kernels' });
    }
    this.wantWasm = kernels === 'wasm';
    const init = new RandomState(requireInt('seed', seed, 0, 0xffffffff));
    this.userEmb = makeParam('userFactors', nUsers, nu, true, true);
    this.itemEmb = makeParam('itemFactors', nItems, ni, true, true);
    truncNormal(this.userEmb.value, init, 0.01);
    truncNormal(this.itemEmb.value, init, 0.01);

    const params: Param[] = [this.userEmb, this.itemEmb];
    const buffers: ModelBuffer[] = [];
    this.hidden = [];
    let nIn = this.d0;
    this.cfg.layers.forEach((nOut, l) => {
      // fastai (wd_bn_bias=False) exempts biases and batch-norm tables from weight decay.
      const weight = makeParam(`layer${l}.weight`, nOut, nIn, false, true);
      const bias = makeParam(`layer${l}.bias`, 1, nOut, false, false);
      linearInit(weight.value, bias.value, nIn, init);
      const bnWeight = makeParam(`bn${l}.weight`, 1, nOut, false, false);
      bnWeight.value.fill(1);
      const bnBias = makeParam(`bn${l}.bias`, 1, nOut, false, false);
      const runningMean = { name: `bn${l}.runningMean`, rows: 1, cols: nOut, value: new Float32Array(nOut) };
      const runningVar = { name: `bn${l}.runningVar`, rows: 1, cols: nOut, value: new Float32Array(nOut).fill(1) };
      params.push(weight, bias, bnWeight, bnBias);
      buffers.push(runningMean, runningVar);
      const empty = new Float64Array(0);
      this.hidden.push({
        nIn, nOut, p: this.cfg.ps[l]!, weight, bias, bnWeight, bnBias, runningMean, runningVar,
        a: empty, xhat: empty, invStd: new Float64Array(nOut), y: empty, mask: empty, dy: empty, dz: empty, dx: empty,
      });
      nIn = nOut;
    });
    this.outW = makeParam('out.weight', 1, nIn, false, true);
    this.outB = makeParam('out.bias', 1, 1, false, false);
    linearInit(this.outW.value, this.outB.value, nIn, init);
    params.push(this.outW, this.outB);
    this.params = params;
    this.buffers = buffers;
    this.rng = new RandomState((seed + 1) >>> 0);
    this.ensureCapacity(64);
  }

  /** The movie embedding table (nItems × item width): similar movies, the map and explanations. */
  itemEmbeddings(): { Q: Float32Array; k: number } {
    return { Q: this.itemEmb.value, k: this.ni };
  }

  /**
   * The model as a function of one user embedding u in evaluation mode, for the fold-in of new users:
   * pred(u, i) and d pred / d u. Evaluation-mode batch norm is affine, y = gamma (a - mean) / sqrt(var + eps)
   * + beta with the running statistics, so backward is: dO = (hi - lo) s (1 - s); dy_L = dO w_out;
   * per block, dz = dy · gamma / sqrt(var + eps) · [z > 0] and dx = Wᵀ dz; the user's part of dx_0 is the gradient.
   */
  userVectorModel(): UserVectorModel {
    const { nu, ni, d0 } = this;
    const layers = this.hidden;
    const I = this.itemEmb.value;
    const x0 = new Float64Array(d0);
    const zs = layers.map((h) => new Float64Array(h.nOut));
    const ys = layers.map((h) => new Float64Array(h.nOut));
    const scale = layers.map((h) => Float64Array.from(h.bnWeight.value, (g, j) => g / Math.sqrt(h.runningVar.value[j]! + BN_EPS)));
    const width = Math.max(d0, ...layers.map((h) => h.nOut));
    const dA = new Float64Array(width);
    const dB = new Float64Array(width);
    const w = this.outW.value;
    const yRange = this.cfg.yRange;
    return {
      userSize: nu,
      meanUserVector: () => meanRow(this.userEmb.value, this.nUsers, nu),
      predictWithUser: (userVec: Float32Array, item: number, grad: Float32Array): number => {
        for (let f = 0; f < nu; f++) x0[f] = userVec[f]!;
        const iRow = item * ni;
        for (let f = 0; f < ni; f++) x0[nu + f] = I[iRow + f]!;
        let x: Float64Array = x0;
        for (let l = 0; l < layers.length; l++) {
          const h = layers[l]!;
          const W = h.weight.value;
          const bias = h.bias.value;
          const z = zs[l]!;
          const y = ys[l]!;
          const sc = scale[l]!;
          const rm = h.runningMean.value;
          const beta = h.bnBias.value;
          for (let j = 0; j < h.nOut; j++) {
            const wRow = j * h.nIn;
            let acc = bias[j]!;
            for (let q = 0; q < h.nIn; q++) acc += W[wRow + q]! * x[q]!;
            z[j] = acc;
            y[j] = ((acc > 0 ? acc : 0) - rm[j]!) * sc[j]! + beta[j]!;
          }
          x = y;
        }
        const k = layers.length > 0 ? layers[layers.length - 1]!.nOut : d0;
        let o = this.outB.value[0]!;
        for (let f = 0; f < k; f++) o += x[f]! * w[f]!;
        let pred = o;
        let dO = 1;
        if (yRange !== null) {
          const s = 1 / (1 + Math.exp(-o));
          pred = yRange[0] + (yRange[1] - yRange[0]) * s;
          dO = (yRange[1] - yRange[0]) * s * (1 - s);
        }
        let dy = dA;
        let dx = dB;
        for (let f = 0; f < k; f++) dy[f] = dO * w[f]!;
        for (let l = layers.length - 1; l >= 0; l--) {
          const h = layers[l]!;
          const W = h.weight.value;
          const z = zs[l]!;
          const sc = scale[l]!;
          dx.fill(0, 0, h.nIn);
          for (let j = 0; j < h.nOut; j++) {
            if (!(z[j]! > 0)) continue;
            const dz = dy[j]! * sc[j]!;
            const wRow = j * h.nIn;
            for (let q = 0; q < h.nIn; q++) dx[q] += W[wRow + q]! * dz;
          }
          const t = dy;
          dy = dx;
          dx = t;
        }
        for (let f = 0; f < nu; f++) grad[f] = dy[f]!;
        return pred;
      },
    };
  }

  /** The resolved architecture (embSizes, layers, ps, embDrop, yRange); pass it back as options to rebuild. */
  config(): Record<string, unknown> & EmbeddingNNConfig {
    const c = this.cfg;
    return {
      embSizes: [c.embSizes[0], c.embSizes[1]],
      layers: [...c.layers],
      ps: [...c.ps],
      embDrop: c.embDrop,
      yRange: c.yRange === null ? null : [c.yRange[0], c.yRange[1]],
    };
  }

  /** Training step over rows order[start..end): batch-norm uses batch statistics and dropout is on. */
  trainBatch(data: Ratings, order: Int32Array, start: number, end: number): number {
    const n = end - start;
    if (n <= 0) return 0;
    if (n === 1 && this.hidden.length > 0) {
      throw new CollabError(
        'INVALID_OPTION',
        'EmbeddingNN cannot train on a batch of 1 rating: batch norm needs at least 2 to estimate a variance; drop the last incomplete batch or change the batch size',
        { field: 'batchSize' },
      );
    }
    this.ensureCapacity(n);
    const { bu, bi, br } = this;
    for (let b = 0; b < n; b++) {
      const r = order[start + b]!;
      bu[b] = data.users[r]!;
      bi[b] = data.items[r]!;
      br[b] = data.ratings[r]!;
    }
    this.forward(n, true);
    return this.backward(n);
  }

  /** Evaluation-mode prediction for one dense (user, item) pair. */
  predict(user: number, item: number): number {
    this.checkIndex(user, item);
    this.bu[0] = user;
    this.bi[0] = item;
    this.forward(1, false);
    return this.pred[0]!;
  }

  /** Evaluation-mode predictions for many pairs, in chunks of the batch buffers' size. */
  predictMany(users: Int32Array, items: Int32Array, out: Float32Array): void {
    const total = users.length;
    if (items.length !== total || out.length < total) {
      throw new CollabError(
        'INVALID_OPTION',
        `predictMany needs users, items and out of the same length, got ${total}, ${items.length} and ${out.length}`,
        { field: 'items' },
      );
    }
    for (let r = 0; r < total; r++) this.checkIndex(users[r]!, items[r]!);
    const cap = this.cap;
    for (let off = 0; off < total; off += cap) {
      const n = Math.min(cap, total - off);
      for (let b = 0; b < n; b++) {
        this.bu[b] = users[off + b]!;
        this.bi[b] = items[off + b]!;
      }
      this.forward(n, false);
      for (let b = 0; b < n; b++) out[off + b] = this.pred[b]!;
    }
  }

  private checkIndex(user: number, item: number): void {
    if (!(user >= 0 && user < this.nUsers && Number.isInteger(user))) {
      throw new CollabError('UNKNOWN_USER', `user index ${user} is outside 0..${this.nUsers - 1}; map raw ids through the model's user IdMap first`);
    }
    if (!(item >= 0 && item < this.nItems && Number.isInteger(item))) {
      throw new CollabError('UNKNOWN_ITEM', `item index ${item} is outside 0..${this.nItems - 1}; map raw ids through the model's item IdMap first`);
    }
  }

  /** Grows the batch buffers to hold n rows (only when a larger batch than ever before arrives). */
  private ensureCapacity(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.max(n, this.cap * 2);
    this.cap = cap;
    this.bu = new Int32Array(cap);
    this.bi = new Int32Array(cap);
    this.br = new Float64Array(cap);
    this.x0 = new Float64Array(cap * this.d0);
    this.mask0 = new Float64Array(this.cfg.embDrop > 0 ? cap * this.d0 : 0);
    this.dx0 = new Float64Array(cap * this.d0);
    this.sig = new Float64Array(cap);
    this.pred = new Float64Array(cap);
    let widest = 1;
    for (const h of this.hidden) {
      const m = cap * h.nOut;
      h.a = new Float64Array(m);
      h.xhat = new Float64Array(m);
      h.y = new Float64Array(m);
      h.mask = new Float64Array(h.p > 0 ? m : 0);
      h.dy = new Float64Array(m);
      h.dz = new Float64Array(m);
      h.dx = new Float64Array(cap * h.nIn);
      widest = Math.max(widest, h.nOut);
    }
    this.nzIdx = new Int32Array(Math.max(cap, widest));
    this.nzVal = new Float64Array(Math.max(cap, widest));
    if (this.wantWasm) this.allocScratch(cap);
  }

  /** Lays every hidden layer's float32 operands for `cap` rows out in one fresh wasm memory (JS loops if that fails). */
  private allocScratch(cap: number): void {
    const regions = this.hidden.map((h) => {
      const dp = Math.ceil(h.nIn / 4) * 4;
      const nz = Math.max(cap, h.nOut);
      // floats per operand, in LayerScratch order: x, w, bias, z, dz, dx, gw, idx, val
      return { dp, sizes: [cap * dp, h.nOut * dp, h.nOut, cap * h.nOut, cap * h.nOut, cap * dp, h.nOut * dp, nz, nz] };
    });
    const padded = (n: number) => Math.ceil(n / 4) * 16;
    const bytes = regions.reduce((sum, r) => sum + r.sizes.reduce((t, n) => t + padded(n), 0), 0);
    const sk = this.hidden.length > 0 ? scratchKernels(bytes) : undefined;
    this.simd = sk?.exports;
    if (!sk) {
      for (const h of this.hidden) delete h.scratch;
      return;
    }
    const buf = sk.memory.buffer;
    let base = 0;
    this.hidden.forEach((h, l) => {
      const { dp, sizes } = regions[l]!;
      const off: number[] = [];
      for (const n of sizes) {
        off.push(base);
        base += padded(n);
      }
      const view = (j: number) => new Float32Array(buf, off[j]!, sizes[j]!);
      h.scratch = {
        dp, x: off[0]!, w: off[1]!, bias: off[2]!, z: off[3]!, dz: off[4]!, dx: off[5]!, gw: off[6]!, idx: off[7]!, val: off[8]!,
        xV: view(0), wV: view(1), biasV: view(2), zV: view(3), dzV: view(4), dxV: view(5), gwV: view(6),
      };
    });
  }

  /** z = x Wᵀ + b for one layer by the wasm kernel: x, W and b copied in as float32 (rows padded to dp), z copied out. */
  private linearForwardWasm(h: Hidden, x: Float64Array, n: number, simd: SimdKernelExports): void {
    const s = h.scratch!;
    const { nIn: d, nOut: c } = h;
    const { dp, xV, wV, biasV, zV } = s;
    const W = h.weight.value;
    for (let j = 0; j < c; j++) {
      const wo = j * d;
      const so = j * dp;
      for (let k = 0; k < d; k++) wV[so + k] = W[wo + k]!;
    }
    biasV.set(h.bias.value);
    for (let b = 0; b < n; b++) {
      const xo = b * d;
      const so = b * dp;
      for (let k = 0; k < d; k++) xV[so + k] = x[xo + k]!;
    }
    simd.nnForward(s.x, s.w, s.bias, s.z, n, dp, c);
    const a = h.a;
    const m = n * c;
    for (let t = 0; t < m; t++) a[t] = zV[t]!;
  }

  /**
   * Linear backward by the wasm kernels, from h.dz and the x and W of the last forward (still in the scratch):
   * db_j = Σ_b dz_bj (float64 here), dW = dzᵀ x added to the param's grad, dx = dz W copied out.
   */
  private linearBackwardWasm(h: Hidden, n: number, dx: Float64Array, simd: SimdKernelExports): void {
    const s = h.scratch!;
    const { nIn: d, nOut: c, dz } = h;
    const { dp, dzV, gwV, dxV } = s;
    const gW = h.weight.grad.data;
    const gB = h.bias.grad.data;
    const m = n * c;
    for (let t = 0; t < m; t++) dzV[t] = dz[t]!;
    for (let j = 0; j < c; j++) {
      let sumG = 0;
      for (let b = 0; b < n; b++) sumG += dz[b * c + j]!;
      gB[j] += sumG;
    }
    simd.nnGradW(s.dz, s.x, s.gw, n, dp, c, s.idx, s.val);
    for (let j = 0; j < c; j++) {
      const wo = j * d;
      const so = j * dp;
      for (let k = 0; k < d; k++) gW[wo + k] += gwV[so + k]!;
    }
    simd.nnGradX(s.dz, s.w, s.dx, n, dp, c, s.idx, s.val);
    for (let b = 0; b < n; b++) {
      const xo = b * d;
      const so = b * dp;
      for (let k = 0; k < d; k++) dx[xo + k] = dxV[so + k]!;
    }
  }

  /** Forward pass over the n rows in bu/bi; train selects batch statistics + dropout vs running statistics. */
  private forward(n: number, train: boolean): void {
    const { nu, ni, d0, x0 } = this;
    const U = this.userEmb.value;
    const I = this.itemEmb.value;
    for (let b = 0; b < n; b++) {
      const uRow = this.bu[b]! * nu;
      const iRow = this.bi[b]! * ni;
      const xo = b * d0;
      for (let f = 0; f < nu; f++) x0[xo + f] = U[uRow + f]!;
      for (let f = 0; f < ni; f++) x0[xo + nu + f] = I[iRow + f]!;
    }
    if (train && this.cfg.embDrop > 0) dropout(x0, this.mask0, n * d0, this.cfg.embDrop, this.rng);

    let x: Float64Array = x0;
    const simd = this.simd;
    for (const h of this.hidden) {
      if (simd) this.linearForwardWasm(h, x, n, simd);
      else linearForward(x, n, h.nIn, h.weight.value, h.bias.value, h.nOut, h.a);
      const m = n * h.nOut;
      const a = h.a;
      for (let t = 0; t < m; t++) if (a[t]! < 0) a[t] = 0;
      if (train) this.batchNormTrain(h, n);
      else batchNormEval(h, n);
      if (train && h.p > 0) dropout(h.y, h.mask, m, h.p, this.rng);
      x = h.y;
    }

    // o = w_out · x + b_out;  pred = lo + (hi - lo) * sigmoid(o)
    const k = this.hidden.length > 0 ? this.hidden[this.hidden.length - 1]!.nOut : d0;
    const w = this.outW.value;
    const b0 = this.outB.value[0]!;
    const yRange = this.cfg.yRange;
    for (let b = 0; b < n; b++) {
      const xo = b * k;
      let o = b0;
      for (let f = 0; f < k; f++) o += x[xo + f]! * w[f]!;
      if (yRange === null) {
        this.sig[b] = o;
        this.pred[b] = o;
      } else {
        const s = 1 / (1 + Math.exp(-o));
        this.sig[b] = s;
        this.pred[b] = yRange[0] + (yRange[1] - yRange[0]) * s;
      }
    }
  }

  /**
   * Batch norm in training mode over ReLU outputs a (n × nOut):
   *   mean_j = Σ_b a_bj / n,  var_j = Σ_b (a_bj - mean_j)² / n,  xhat = (a - mean) / sqrt(var + eps),
   *   y = gamma xhat + beta;  running ← (1 - momentum) running + momentum · (mean, var · n / (n - 1)).
   */
  private batchNormTrain(h: Hidden, n: number): void {
    const { a, xhat, y, invStd, nOut: c } = h;
    const gamma = h.bnWeight.value;
    const beta = h.bnBias.value;
    const rm = h.runningMean.value;
    const rv = h.runningVar.value;
    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let b = 0; b < n; b++) sum += a[b * c + j]!;
      const mean = sum / n;
      let ss = 0;
      for (let b = 0; b < n; b++) {
        const dev = a[b * c + j]! - mean;
        ss += dev * dev;
      }
      const variance = ss / n;
      const inv = 1 / Math.sqrt(variance + BN_EPS);
      invStd[j] = inv;
      const g = gamma[j]!;
      const be = beta[j]!;
      for (let b = 0; b < n; b++) {
        const t = b * c + j;
        const xh = (a[t]! - mean) * inv;
        xhat[t] = xh;
        y[t] = g * xh + be;
      }
      rm[j] = (1 - BN_MOMENTUM) * rm[j]! + BN_MOMENTUM * mean;
      rv[j] = (1 - BN_MOMENTUM) * rv[j]! + BN_MOMENTUM * (n > 1 ? ss / (n - 1) : variance);
    }
  }

  /** Backward pass after a training forward: adds d(mean squared error)/d(param) to every grad, returns Σ err². */
  private backward(n: number): number {
    const yRange = this.cfg.yRange;
    const span = yRange === null ? 1 : yRange[1] - yRange[0];
    const L = this.hidden.length;
    const k = L > 0 ? this.hidden[L - 1]!.nOut : this.d0;
    const x = L > 0 ? this.hidden[L - 1]!.y : this.x0;
    const dx = L > 0 ? this.hidden[L - 1]!.dy : this.dx0;
    const w = this.outW.value;
    const gw = this.outW.grad.data;

    // loss = Σ_b (pred_b - r_b)² / n;  dO_b = 2 (pred_b - r_b) / n · (hi - lo) s_b (1 - s_b)
    // dw_out = Σ_b dO_b x_b,  db_out = Σ_b dO_b,  dx_b = dO_b w_out
    let sse = 0;
    let gb = 0;
    for (let b = 0; b < n; b++) {
      const err = this.pred[b]! - this.br[b]!;
      sse += err * err;
      const s = this.sig[b]!;
      const dO = yRange === null ? (2 * err) / n : ((2 * err) / n) * span * s * (1 - s);
      gb += dO;
      const xo = b * k;
      for (let f = 0; f < k; f++) {
        gw[f] += dO * x[xo + f]!;
        dx[xo + f] = dO * w[f]!;
      }
    }
    this.outB.grad.data[0] += gb;

    for (let l = L - 1; l >= 0; l--) {
      const h = this.hidden[l]!;
      const m = n * h.nOut;
      if (h.p > 0) for (let t = 0; t < m; t++) h.dy[t] = h.dy[t]! * h.mask[t]!;
      this.batchNormBackward(h, n);
      const xIn = l > 0 ? this.hidden[l - 1]!.y : this.x0;
      const dxIn = l > 0 ? this.hidden[l - 1]!.dy : this.dx0;
      if (this.simd) this.linearBackwardWasm(h, n, dxIn, this.simd);
      else this.linearBackward(h, n, xIn, dxIn);
    }

    // dU[u] += dx0[b, 0..nu),  dI[i] += dx0[b, nu..d0)  (times the embedding dropout mask)
    const { nu, ni, d0, dx0 } = this;
    if (this.cfg.embDrop > 0) {
      const mask = this.mask0;
      for (let t = 0; t < n * d0; t++) dx0[t] = dx0[t]! * mask[t]!;
    }
    const gU = this.userEmb.grad;
    const gI = this.itemEmb.grad;
    for (let b = 0; b < n; b++) {
      const u = this.bu[b]!;
      const i = this.bi[b]!;
      gU.touch(u);
      gI.touch(i);
      const uRow = u * nu;
      const iRow = i * ni;
      const xo = b * d0;
      for (let f = 0; f < nu; f++) gU.data[uRow + f] += dx0[xo + f]!;
      for (let f = 0; f < ni; f++) gI.data[iRow + f] += dx0[xo + nu + f]!;
    }
    return sse;
  }

  /**
   * Batch-norm + ReLU backward, from dy to dz:
   *   dgamma_j = Σ_b dy xhat,  dbeta_j = Σ_b dy,
   *   da = gamma invStd / n · (n dy - Σ_b dy - xhat Σ_b dy xhat),  dz = a > 0 ? da : 0.
   */
  private batchNormBackward(h: Hidden, n: number): void {
    const { a, xhat, dy, dz, invStd, nOut: c } = h;
    const gamma = h.bnWeight.value;
    const gGamma = h.bnWeight.grad.data;
    const gBeta = h.bnBias.grad.data;
    for (let j = 0; j < c; j++) {
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let b = 0; b < n; b++) {
        const t = b * c + j;
        sumDy += dy[t]!;
        sumDyXhat += dy[t]! * xhat[t]!;
      }
      gGamma[j] += sumDyXhat;
      gBeta[j] += sumDy;
      const scale = (gamma[j]! * invStd[j]!) / n;
      for (let b = 0; b < n; b++) {
        const t = b * c + j;
        dz[t] = a[t]! > 0 ? scale * (n * dy[t]! - sumDy - xhat[t]! * sumDyXhat) : 0;
      }
    }
  }

  /**
   * Linear backward with W (nOut × nIn): db_j = Σ_b dz_bj,  dW_jk = Σ_b dz_bj x_bk,  dx_bk = Σ_j dz_bj W_jk.
   * Zeros of dz (ReLU off: half at init, about two thirds once trained) are skipped; the rest go eight at
   * a time (then four, then one), so each pass over a row of length nIn does eight multiply-adds, summed
   * in float64, per load/store of the accumulator row (the float32 grad gets one rounding per group).
   */
  private linearBackward(h: Hidden, n: number, x: Float64Array, dx: Float64Array): void {
    const { nIn: d, nOut: c, dz } = h;
    const W = h.weight.value;
    const gW = h.weight.grad.data;
    const gB = h.bias.grad.data;
    const nzIdx = this.nzIdx;
    const nzVal = this.nzVal;

    // dW[j, :] += Σ_b dz[b, j] x[b, :] over the nonzero dz of column j
    for (let j = 0; j < c; j++) {
      let cnt = 0;
      let sumG = 0;
      for (let b = 0; b < n; b++) {
        const g = dz[b * c + j]!;
        if (g !== 0) {
          nzIdx[cnt] = b * d;
          nzVal[cnt] = g;
          cnt++;
          sumG += g;
        }
      }
      gB[j] += sumG;
      addRowCombination(gW, j * d, x, nzIdx, nzVal, cnt, d);
    }

    // dx[b, :] = Σ_j dz[b, j] W[j, :] over the nonzero dz of row b
    for (let b = 0; b < n; b++) {
      const xo = b * d;
      const zo = b * c;
      let cnt = 0;
      for (let j = 0; j < c; j++) {
        const g = dz[zo + j]!;
        if (g !== 0) {
          nzIdx[cnt] = j * d;
          nzVal[cnt] = g;
          cnt++;
        }
      }
      dx.fill(0, xo, xo + d);
      addRowCombination(dx, xo, W, nzIdx, nzVal, cnt, d);
    }
  }
}

/** Batch norm in evaluation mode: y = gamma (a - runningMean) / sqrt(runningVar + eps) + beta. */
function batchNormEval(h: Hidden, n: number): void {
  const { a, y, nOut: c } = h;
  const gamma = h.bnWeight.value;
  const beta = h.bnBias.value;
  const rm = h.runningMean.value;
  const rv = h.runningVar.value;
  const inv = h.invStd; // scratch here: gamma / sqrt(runningVar + eps), no backward follows evaluation
  for (let j = 0; j < c; j++) inv[j] = gamma[j]! / Math.sqrt(rv[j]! + BN_EPS);
  for (let b = 0; b < n; b++) {
    const o = b * c;
    for (let j = 0; j < c; j++) y[o + j] = (a[o + j]! - rm[j]!) * inv[j]! + beta[j]!;
  }
}

/**
 * z[b, j] = bias[j] + Σ_k x[b, k] W[j, k] for x (n × d) and W (c × d), blocked 2 rows × 4 units so each
 * step of k loads 2 inputs and 4 weights for 8 multiply-adds held in registers.
 */
function linearForward(
  x: Float64Array,
  n: number,
  d: number,
  W: Float32Array,
  bias: Float32Array,
  c: number,
  z: Float64Array,
): void {
  let b = 0;
  for (; b + 2 <= n; b += 2) {
    const x0 = b * d;
    const x1 = x0 + d;
    const z0 = b * c;
    const z1 = z0 + c;
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const w0 = j * d;
      const w1 = w0 + d;
      const w2 = w1 + d;
      const w3 = w2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < d; k++) {
        const xa = x[x0 + k]!;
        const xb = x[x1 + k]!;
        const wa = W[w0 + k]!;
        const wb = W[w1 + k]!;
        const wc = W[w2 + k]!;
        const wd = W[w3 + k]!;
        s00 += xa * wa;
        s01 += xa * wb;
        s02 += xa * wc;
        s03 += xa * wd;
        s10 += xb * wa;
        s11 += xb * wb;
        s12 += xb * wc;
        s13 += xb * wd;
      }
      z[z0 + j] = s00 + bias[j]!;
      z[z0 + j + 1] = s01 + bias[j + 1]!;
      z[z0 + j + 2] = s02 + bias[j + 2]!;
      z[z0 + j + 3] = s03 + bias[j + 3]!;
      z[z1 + j] = s10 + bias[j]!;
      z[z1 + j + 1] = s11 + bias[j + 1]!;
      z[z1 + j + 2] = s12 + bias[j + 2]!;
      z[z1 + j + 3] = s13 + bias[j + 3]!;
    }
    for (; j < c; j++) {
      const w0 = j * d;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < d; k++) {
        s0 += x[x0 + k]! * W[w0 + k]!;
        s1 += x[x1 + k]! * W[w0 + k]!;
      }
      z[z0 + j] = s0 + bias[j]!;
      z[z1 + j] = s1 + bias[j]!;
    }
  }
  for (; b < n; b++) {
    const x0 = b * d;
    const z0 = b * c;
    for (let j = 0; j < c; j++) {
      const w0 = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += x[x0 + k]! * W[w0 + k]!;
      z[z0 + j] = s + bias[j]!;
    }
  }
}

/** Inverted dropout in place: v *= mask with mask = 0 (probability p) or 1 / (1 - p), as PyTorch's. */
function dropout(v: Float64Array, mask: Float64Array, m: number, p: number, rng: RandomState): void {
  const keep = 1 / (1 - p);
  for (let t = 0; t < m; t++) {
    const k = rng.random() < p ? 0 : keep;
    mask[t] = k;
    v[t] = v[t]! * k;
  }
}

/** PyTorch's Linear default (kaiming_uniform, a = sqrt(5)): weight and bias ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
function linearInit(weight: Float32Array, bias: Float32Array, fanIn: number, rng: RandomState): void {
  const bound = 1 / Math.sqrt(fanIn);
  for (let t = 0; t < weight.length; t++) weight[t] = rng.uniform(-bound, bound);
  for (let t = 0; t < bias.length; t++) bias[t] = rng.uniform(-bound, bound);
}

function checkProbability(name: string, p: number): number {
  if (!Number.isFinite(p) || p < 0 || p >= 1) {
    throw new CollabError('INVALID_OPTION', `${name} must be a dropout probability in [0, 1), got ${p}`, { field: name });
  }
  return p;
}

/** Fills defaults and validates every option, so the kernels never see a bad shape. */
function resolveOptions(nUsers: number, nItems: number, o: EmbeddingNNOptions): EmbeddingNNConfig {
  if (o.embSizes !== undefined && o.embSizes.length !== 2) {
    throw new CollabError('INVALID_OPTION', `embSizes must be [userSize, itemSize], got ${o.embSizes.length} numbers`, { field: 'embSizes' });
  }
  const embSizes: [number, number] = o.embSizes
    ? [requireInt('embSizes[0]', o.embSizes[0], 1), requireInt('embSizes[1]', o.embSizes[1], 1)]
    : [embSizeRule(nUsers), embSizeRule(nItems)];
  const layers = (o.layers ?? [100]).map((h, l) => requireInt(`layers[${l}]`, h, 1));
  let ps: number[];
  if (o.ps === undefined) ps = layers.map(() => 0);
  else if (typeof o.ps === 'number') ps = layers.map(() => checkProbability('ps', o.ps as number));
  else {
    if (o.ps.length !== layers.length) {
      throw new CollabError(
        'INVALID_OPTION',
        `ps needs one dropout probability per hidden layer (${layers.length}), got ${o.ps.length}; pass a single number to use it for every layer`,
        { field: 'ps' },
      );
    }
    ps = o.ps.map((p, l) => checkProbability(`ps[${l}]`, p));
  }
  const embDrop = checkProbability('embDrop', o.embDrop ?? 0);
  let yRange: [number, number] | null = [0, 5.5];
  if (o.yRange === null) yRange = null;
  else if (o.yRange !== undefined) {
    const [lo, hi] = o.yRange;
    requireNumber('yRange[0]', lo);
    requireNumber('yRange[1]', hi);
    if (!(hi > lo)) {
      throw new CollabError('INVALID_OPTION', `yRange must be [lo, hi] with hi > lo, got [${lo}, ${hi}]`, { field: 'yRange' });
    }
    yRange = [lo, hi];
  }
  return { embSizes, layers, ps, embDrop, yRange };
}

/**
 * out[at..at+d) += Σ_t val[t] · src[idx[t]..idx[t]+d) over t < cnt (the nonzero terms of a dense layer's
 * backward: a weight row's gradient from the inputs, or an input's gradient from the weight rows), eight and
 * then four terms per pass over the row so each element is read and written once per pass.
 */
function addRowCombination(out: Float32Array | Float64Array, at: number, src: Float32Array | Float64Array, idx: Int32Array, val: Float64Array, cnt: number, d: number): void {
  let t = 0;
  for (; t + 8 <= cnt; t += 8) {
    const o0 = idx[t]!, o1 = idx[t + 1]!, o2 = idx[t + 2]!, o3 = idx[t + 3]!;
    const o4 = idx[t + 4]!, o5 = idx[t + 5]!, o6 = idx[t + 6]!, o7 = idx[t + 7]!;
    const g0 = val[t]!, g1 = val[t + 1]!, g2 = val[t + 2]!, g3 = val[t + 3]!;
    const g4 = val[t + 4]!, g5 = val[t + 5]!, g6 = val[t + 6]!, g7 = val[t + 7]!;
    for (let k = 0; k < d; k++) {
      out[at + k] +=
        g0 * src[o0 + k]! + g1 * src[o1 + k]! + g2 * src[o2 + k]! + g3 * src[o3 + k]! +
        g4 * src[o4 + k]! + g5 * src[o5 + k]! + g6 * src[o6 + k]! + g7 * src[o7 + k]!;
    }
  }
  for (; t + 4 <= cnt; t += 4) {
    const o0 = idx[t]!, o1 = idx[t + 1]!, o2 = idx[t + 2]!, o3 = idx[t + 3]!;
    const g0 = val[t]!, g1 = val[t + 1]!, g2 = val[t + 2]!, g3 = val[t + 3]!;
    for (let k = 0; k < d; k++) out[at + k] += g0 * src[o0 + k]! + g1 * src[o1 + k]! + g2 * src[o2 + k]! + g3 * src[o3 + k]!;
  }
  for (; t < cnt; t++) {
    const o0 = idx[t]!;
    const g0 = val[t]!;
    for (let k = 0; k < d; k++) out[at + k] += g0 * src[o0 + k]!;
  }
}
