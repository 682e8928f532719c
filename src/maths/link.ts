/** The link of a factor model's raw score s (the dot product plus biases and offset): its range or its clip. */
export interface ScoreLink {
  /** Sigmoid to [lo, hi] when set. */
  yRange?: readonly [number, number] | undefined;
  /** Otherwise the score is clipped to [lo, hi]. */
  clip: readonly [number, number];
}

/** The score of one raw value s under the scoring's link (sigmoid to the y-range, or clip). */
export function linkScore(scoring: ScoreLink, s: number): number {
  const { yRange, clip } = scoring;
  if (yRange) return yRange[0] + (yRange[1] - yRange[0]) / (1 + Math.exp(-s));
  return s < clip[0] ? clip[0] : s > clip[1] ? clip[1] : s;
}


/**
 * A raw value below which the link stays under x: link(s) < x for every s < linkFloor(x) (the link is
 * monotone). -Infinity when every s can reach x, +Infinity when none can. Exact up to float64 rounding;
 * a caller that needs a safe bound lowers x first.
 */
export function linkFloor(scoring: ScoreLink, x: number): number {
  const { yRange, clip } = scoring;
  if (yRange) {
    const z = (x - yRange[0]) / (yRange[1] - yRange[0]);
    if (!(z > 0)) return z === z ? -Infinity : NaN;
    return z >= 1 ? Infinity : Math.log(z / (1 - z));
  }
  if (x <= clip[0]) return -Infinity;
  return x > clip[1] ? Infinity : x;
}
