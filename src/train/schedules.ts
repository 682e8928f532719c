/** A hyperparameter as a pure function of training progress pos ∈ [0, 1]. */
export type Schedule = (pos: number) => number;

/** Cosine from `start` to `end` (fastai's sched_cos): start + (end - start)(1 - cos(pi pos)) / 2. */
export function schedCos(start: number, end: number, pos: number): number {
  return start + ((end - start) * (1 - Math.cos(Math.PI * pos))) / 2;
}

/** Linear from `start` to `end`. */
export function schedLin(start: number, end: number, pos: number): number {
  return start + (end - start) * pos;
}

/** Exponential from `start` to `end`: start (end / start)^pos (the lr finder's ramp). */
export function schedExp(start: number, end: number, pos: number): number {
  return start * Math.pow(end / start, pos);
}

/** A constant schedule. */
export function constant(value: number): Schedule {
  return () => value;
}

/**
 * fastai's combined_cos: cosine from `start` to `middle` over the first `pct` of training, then cosine
 * from `middle` to `end`.
 */
export function combinedCos(pct: number, start: number, middle: number, end: number): Schedule {
  return (pos) => (pos < pct ? schedCos(start, middle, pos / pct) : schedCos(middle, end, (pos - pct) / (1 - pct)));
}

/** Options of {@link oneCycle}. */
export interface OneCycleOptions {
  /** Fraction of training spent warming up. Default 0.25. */
  pctStart?: number;
  /** The lr starts at lrMax / div. Default 25. */
  div?: number;
  /** The lr ends at lrMax / divFinal. Default 1e5. */
  divFinal?: number;
  /** Momentum (SGD) or beta1 (Adam) at start, middle and end. Default [0.95, 0.85, 0.95]. */
  moms?: [number, number, number];
}

/** fastai's fit_one_cycle schedules: the lr warms up then anneals by cosine while momentum does the opposite. */
export function oneCycle(lrMax: number, options: OneCycleOptions = {}): { lr: Schedule; mom: Schedule } {
  const pct = options.pctStart ?? 0.25;
  const div = options.div ?? 25;
  const divFinal = options.divFinal ?? 1e5;
  const [m0, m1, m2] = options.moms ?? [0.95, 0.85, 0.95];
  return { lr: combinedCos(pct, lrMax / div, lrMax, lrMax / divFinal), mom: combinedCos(pct, m0, m1, m2) };
}
