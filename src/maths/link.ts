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

