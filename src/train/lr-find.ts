/** One lr finder run: the lrs tried and the smoothed losses seen, plus the suggestion. */
export interface LrFindResult {
  lrs: number[];
  /** Exponentially smoothed (beta 0.98, debiased) training loss at each lr. */
  losses: number[];
  /** fastai's "valley" suggestion. */
  valley: number;
  /** The lr with the lowest smoothed loss, divided by 10 (fastai's "minimum"). */
  minimum: number;
  /** Whether the run stopped early because the loss diverged (> 4 × its minimum). */
  diverged: boolean;
}

/** Options of the lr finder. */
export interface LrFindOptions {
  /** First lr of the ramp. Default 1e-7. */
  startLr?: number;
  /** Last lr of the ramp. Default 10. */
  endLr?: number;
  /** Number of batches. Default 100. */
  numIt?: number;
  /** Stop when the smoothed loss exceeds 4 × its minimum. Default true. */
  stopDiv?: boolean;
}

/**
 * fastai's "valley" suggestion: find the longest decreasing subsequence of the loss curve and pick the lr
 * half-way through its middle third (start + len/3 + len/6), a point where the loss still falls steeply.
 * Like fastai, the first tenth and the last five points are left out first.
 */
export function valley(lrs: readonly number[], losses: readonly number[]): number {
  const cut0 = Math.floor(lrs.length / 10);
  const cut1 = Math.max(cut0 + 1, lrs.length - 5);
  const x = lrs.slice(cut0, cut1);
  const y = losses.slice(cut0, cut1);
  const n = y.length;
  if (n === 0) return lrs[Math.floor(lrs.length / 2)] ?? NaN;
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (y[i]! < y[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd]!;
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = maxStart + Math.floor(sections) + Math.floor(sections / 2);
  return x[Math.min(Math.max(idx, 0), n - 1)]!;
}

/**
 * Batches of the ramp whose suggestion suits `fitOneCycle`: one epoch (at least 100). An embedding row
 * learns only in the batches that touch it, so fastai's 100-batch ramp (6,400 ratings at bs 64) barely
 * moves the embeddings and its loss falls only where the biases learn fast: its valley (3.3e-2 for
 * dotbias on ml-100k) trains worse (valid MSE 0.853) than the default 4e-3 (0.801). Over one epoch every
 * row is touched and the curve shows where the whole model learns.
 */
export function oneCycleRampLength(nTrain: number, batchSize: number): number {
  return Math.max(100, Math.ceil(nTrain / batchSize));
}

/** One lr read off a ramp, and the rule that read it. */
export interface LrCandidate {
  lr: number;
  /** 'minimum/10', 'middle' (the geometric mean of minimum/10 and valley) or 'valley'. */
  rule: string;
}

/**
 * The peak lrs worth trying for `fitOneCycle`, read off the epoch-long ramp of {@link oneCycleRampLength}:
 * its lowest smoothed loss divided by 10 (fastai's "minimum"), its valley, and their geometric middle.
 * Each is rounded to two significant digits. Those are the span fastai's users pick from; on that ramp
 * none of them alone suits every model and data set (see suggestLr, which trains each and keeps the best).
 */
export function oneCycleCandidates(epochRamp: LrFindResult): LrCandidate[] {
  // two significant digits, as printed, so `--lr` as printed trains what was tried
  const round = (lr: number) => Number(lr.toPrecision(2));
  return [
    { lr: round(epochRamp.minimum), rule: 'minimum/10' },
    { lr: round(Math.sqrt(epochRamp.minimum * epochRamp.valley)), rule: 'middle' },
    { lr: round(epochRamp.valley), rule: 'valley' },
  ];
}

/**
 * Runs the lr ramp: `trainAt(lr)` trains one batch at that lr and returns its loss (NaN when it blew up).
 * lr_t = startLr (endLr / startLr)^(t / numIt); the loss is smoothed as fastai's Recorder does.
 */
export function runLrFind(trainAt: (lr: number) => number, options: LrFindOptions = {}): LrFindResult {
  const startLr = options.startLr ?? 1e-7;
  const endLr = options.endLr ?? 10;
  const numIt = options.numIt ?? 100;
  const stopDiv = options.stopDiv ?? true;
  const beta = 0.98;
  const lrs: number[] = [];
  const losses: number[] = [];
  let avg = 0;
  let best = Infinity;
  let diverged = false;
  for (let t = 0; t < numIt; t++) {
    const lr = startLr * Math.pow(endLr / startLr, t / numIt);
    const loss = trainAt(lr);
    avg = beta * avg + (1 - beta) * loss;
    const smooth = avg / (1 - Math.pow(beta, t + 1));
    lrs.push(lr);
    losses.push(smooth);
    if (smooth < best) best = smooth;
    if (stopDiv && (!Number.isFinite(smooth) || smooth > 4 * best)) {
      diverged = true;
      break;
    }
  }
  // Like fastai, the first tenth (where the smoothed loss is still a handful of noisy batches) and the
  // last five points are not candidates for the minimum.
  const cut0 = Math.floor(losses.length / 10);
  const cut1 = Math.max(cut0 + 1, losses.length - 5);
  let argmin = cut0;
  for (let t = cut0 + 1; t < Math.min(cut1, losses.length); t++) if (losses[t]! < losses[argmin]!) argmin = t;
  return { lrs, losses, valley: valley(lrs, losses), minimum: (lrs[argmin] ?? NaN) / 10, diverged };
}
