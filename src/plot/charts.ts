import { CollabError } from '../core/errors.js';
import type { PlotSpec } from './render.js';

/** Plot area of every chart; with axes, title and legend the image is about 800×500. */
const WIDTH = 640;
const HEIGHT = 380;

/** Shared look: white background, fonts large enough to read at 800 px wide. */
const CONFIG = {
  background: 'white',
  padding: 12,
  font: 'sans-serif',
  title: { fontSize: 17, anchor: 'middle', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 10, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 12, titleFontSize: 12, symbolSize: 120, labelLimit: 240 },
  view: { stroke: '#bbbbbb' },
} as const;

/** A Vega-Lite spec with collab's schema version, size and look around `body` (data, layers, encodings). */
function chartSpec(title: string | undefined, body: Record<string, unknown>, width = WIDTH, height = HEIGHT): PlotSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width, height, config: CONFIG, ...body } as PlotSpec;
}

/** Colours of the series, chosen to stay apart for colour-blind readers (Tableau 10). */
const BLUE = '#4c78a8';
const ORANGE = '#f58518';
const RED = '#e45756';

/** Input of `lrFinderChart`. */
export interface LrFinderChartInput {
  /** Learning rate at each step of the ramp (> 0). */
  lrs: ArrayLike<number>;
  /** Smoothed loss at each step, same length as `lrs`; non-finite values (divergence) are dropped. */
  losses: ArrayLike<number>;
  /** Raw (unsmoothed) loss per step, drawn faintly behind when given. */
  rawLosses?: ArrayLike<number>;
  /** Suggested learning rate, marked with a rule, a point on the curve and a label. */
  suggestion?: number;
  /** Name of the suggestion rule in its label, e.g. 'valley'. Default 'suggested'. */
  suggestionName?: string;
  /** Chart title. Default 'Learning rate finder'. */
  title?: string;
}

/** Input of `lossChart`. */
export interface LossChartInput {
  /** Training loss of every minibatch, in order over all epochs. */
  batchLosses?: ArrayLike<number>;
  /**
   * One record per epoch, in order. Epoch k's batches fill [k, k + 1) on the x axis and its record is
   * drawn at the middle, x = k + 0.5, under the tick labelled with the record's own `epoch` (the number
   * the epoch table prints, 0 first).
   */
  epochs: { epoch: number; trainLoss: number; validMse?: number }[];
  /** Chart title. Default 'Training and validation loss'. */
  title?: string;
  /** Largest number of batch points drawn; longer runs are averaged over equal buckets. Default 2000. */
  maxBatchPoints?: number;
}

/** One point of `scatterChart`. */
export interface ScatterPoint {
  x: number;
  y: number;
  /** Text shown beside the point, whole (only for the first `maxLabels` points). */
  label: string;
  /** Series name; when any point has one, points are coloured by it with a legend. */
  group?: string;
}

/** Input of `scatterChart`. */
export interface ScatterChartInput {
  /** Points in priority order: the first `maxLabels` get their label drawn. */
  points: ScatterPoint[];
  title: string;
  xTitle: string;
  yTitle: string;
  /** How many points are offered a text label. Default: all of them. */
  maxLabels?: number;
}

/** Input of `histogramChart`. */
export interface HistogramChartInput {
  /** One bar per distinct value (e.g. each rating 0.5 … 5), drawn in ascending value order. */
  bins: { value: number; count: number }[];
  title: string;
  /** x axis title. Default 'rating'. */
  xTitle?: string;
  /** y axis title. Default 'number of ratings'. */
  yTitle?: string;
}

/**
 * The lr finder's curve: loss against learning rate on a log x axis, with the suggested lr marked.
 * The y axis stops a little above the starting loss, as fastai's plot does, so the divergence at the
 * end of the ramp does not squash the interesting part.
 */
export function lrFinderChart(input: LrFinderChartInput): PlotSpec {
  const { lrs, losses } = input;
  if (lrs.length !== losses.length) {
    throw new CollabError('INVALID_OPTION', `lrFinderChart: lrs has ${lrs.length} values but losses has ${losses.length}; pass one loss per lr`, { field: 'losses' });
  }
  if (input.rawLosses && input.rawLosses.length !== lrs.length) {
    throw new CollabError('INVALID_OPTION', `lrFinderChart: rawLosses has ${input.rawLosses.length} values but lrs has ${lrs.length}; pass one per lr`, { field: 'rawLosses' });
  }
  const smoothName = input.rawLosses ? 'smoothed loss' : 'loss';
  const rows: { lr: number; loss: number; series: string }[] = [];
  let minLoss = Infinity;
  let minAt = -1;
  for (let s = 0; s < lrs.length; s++) {
    const lr = lrs[s]!;
    const loss = losses[s]!;
    if (!(lr > 0) || !Number.isFinite(lr) || !Number.isFinite(loss)) continue;
    rows.push({ lr, loss, series: smoothName });
    if (loss < minLoss) {
      minLoss = loss;
      minAt = rows.length - 1;
    }
  }
  if (rows.length === 0) {
    throw new CollabError('INVALID_OPTION', 'lrFinderChart: no finite (lr, loss) pair to draw; run the lr finder for more steps', { field: 'losses' });
  }
  // Top of the y axis: the highest loss before the minimum (the start of the descent), plus a margin.
  // The first tenth of the points (a few noisy batches smoothed) neither sets the minimum nor the top,
  // as fastai's plot skips its start.
  const skip = Math.floor(rows.length / 10);
  if (skip > 0 && minAt < skip) {
    minAt = skip;
    for (let s = skip; s < rows.length; s++) if (rows[s]!.loss < rows[minAt]!.loss) minAt = s;
    minLoss = rows[minAt]!.loss;
  }
  // The top fits the whole curve up to its minimum, noisy start included, so only the divergence
  // after the minimum leaves the plot.
  let top = minLoss;
  for (let s = 0; s <= minAt; s++) top = Math.max(top, rows[s]!.loss);
  // The bottom also fits the raw losses, which dip below the smoothed curve.
  let bottom = minLoss;
  if (input.rawLosses) {
    for (let s = 0; s < lrs.length; s++) {
      const lr = lrs[s]!;
      const loss = input.rawLosses[s]!;
      if (!(lr > 0) || !Number.isFinite(lr) || !Number.isFinite(loss)) continue;
      rows.push({ lr, loss, series: 'raw loss' });
      bottom = Math.min(bottom, loss);
    }
  }
  const span = top - bottom || Math.abs(top) * 0.1 || 1;
  const yDomain = [bottom - 0.05 * span, top + 0.1 * span];
  const seriesDomain = input.rawLosses ? ['raw loss', smoothName] : [smoothName];
  const seriesRange = input.rawLosses ? ['#c6c6c6', BLUE] : [BLUE];
  const x = { field: 'lr', type: 'quantitative', scale: { type: 'log', nice: false }, title: 'learning rate (log scale)', axis: { format: '~e', grid: true } } as const;
  const y = { field: 'loss', type: 'quantitative', scale: { domain: yDomain, zero: false, nice: false }, title: 'training loss' } as const;
  const layers: object[] = [
    {
      data: { values: rows },
      mark: { type: 'line', clip: true, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color: { field: 'series', type: 'nominal', scale: { domain: seriesDomain, range: seriesRange }, title: null, legend: { orient: 'top', direction: 'horizontal' } },
        order: { field: 'lr', type: 'quantitative' },
      },
    },
  ];
  const suggestion = input.suggestion;
  if (suggestion !== undefined) {
    if (!(suggestion > 0) || !Number.isFinite(suggestion)) {
      throw new CollabError('INVALID_OPTION', `lrFinderChart: suggestion must be a positive learning rate, got ${suggestion}`, { field: 'suggestion' });
    }
    const at = lossAt(rows, suggestion, smoothName);
    const label = `${input.suggestionName ?? 'suggested'} lr = ${formatLr(suggestion)}`;
    const spot = suggestionLabelSpot(rows, smoothName, suggestion, label, [yDomain[0]!, yDomain[1]!]);
    const mark = [{ lr: suggestion, loss: Math.min(Math.max(at, yDomain[0]!), yDomain[1]!), label, labelLoss: spot.loss }];
    layers.push(
      { data: { values: mark }, mark: { type: 'rule', color: RED, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { x } },
      { data: { values: mark }, mark: { type: 'point', filled: true, size: 110, color: RED, clip: true }, encoding: { x, y } },
      {
        data: { values: mark },
        mark: { type: 'text', align: spot.align, baseline: 'middle', dx: spot.align === 'left' ? LR_LABEL_GAP : -LR_LABEL_GAP, fontSize: 13, fontWeight: 'bold', color: RED },
        encoding: { x, y: { ...y, field: 'labelLoss' }, text: { field: 'label' } },
      },
    );
  }
  return chartSpec(input.title ?? 'Learning rate finder', { layer: layers });
}

/** Pixels between the suggestion's rule and its label. */
const LR_LABEL_GAP = 10;

/**
 * Where the suggestion's label goes: beside the rule (never on it), at the first height, from the top
 * of the plot down, where its estimated box crosses no part of the smoothed curve; right of the rule
 * first unless the rule is in the right third of the axis. Falls back to the top right/left.
 */
function suggestionLabelSpot(
  rows: readonly { lr: number; loss: number; series: string }[],
  series: string,
  suggestion: number,
  label: string,
  yDomain: readonly [number, number],
): { align: 'left' | 'right'; loss: number } {
  const curve = rows.filter((r) => r.series === series);
  let lrMin = Math.min(suggestion, ...curve.map((r) => r.lr));
  let lrMax = Math.max(suggestion, ...curve.map((r) => r.lr));
  if (!(lrMax > lrMin)) [lrMin, lrMax] = [suggestion / 10, suggestion * 10];
  // data → pixels of the plot area (log x, linear y growing down)
  const px = (lr: number) => (Math.log(lr / lrMin) / Math.log(lrMax / lrMin)) * WIDTH;
  const py = (loss: number) => ((yDomain[1] - loss) / (yDomain[1] - yDomain[0])) * HEIGHT;
  const w = label.length * 8 + 4;
  const h = 18;
  const rx = px(suggestion);
  const sides: ('left' | 'right')[] = rx / WIDTH < 2 / 3 ? ['left', 'right'] : ['right', 'left'];
  const pts = curve.map((r) => [px(r.lr), py(Math.min(Math.max(r.loss, yDomain[0]), yDomain[1]))] as const);
  const crosses = (l: number, t: number, r: number, b: number): boolean => {
    for (let p = 1; p < pts.length; p++) {
      const [x0, y0] = pts[p - 1]!;
      const [x1, y1] = pts[p]!;
      for (let f = 0; f <= 8; f++) {
        const xs = x0 + ((x1 - x0) * f) / 8;
        const ys = y0 + ((y1 - y0) * f) / 8;
        if (xs >= l - 3 && xs <= r + 3 && ys >= t - 3 && ys <= b + 3) return true;
      }
    }
    return false;
  };
  for (const align of sides) {
    const l = align === 'left' ? rx + LR_LABEL_GAP : rx - LR_LABEL_GAP - w;
    if (l < 0 || l + w > WIDTH) continue;
    for (let t = 6; t + h <= HEIGHT - 6; t += 6) {
      if (!crosses(l, t, l + w, t + h)) return { align, loss: yDomain[1] - ((t + h / 2) / HEIGHT) * (yDomain[1] - yDomain[0]) };
    }
  }
  return { align: sides[0]!, loss: yDomain[1] - ((6 + h / 2) / HEIGHT) * (yDomain[1] - yDomain[0]) };
}

/**
 * Training curves: the loss of every minibatch as a thin line, and the per-epoch training loss and
 * validation MSE as points joined by lines, on one x axis counted in epochs.
 */
export function lossChart(input: LossChartInput): PlotSpec {
  const epochs = input.epochs;
  const batch = input.batchLosses ?? [];
  if (epochs.length === 0 && batch.length === 0) {
    throw new CollabError('INVALID_OPTION', 'lossChart: no epochs and no batch losses to draw; train for at least one epoch', { field: 'epochs' });
  }
  const maxPoints = input.maxBatchPoints ?? 2000;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new CollabError('INVALID_OPTION', `lossChart: maxBatchPoints must be an integer >= 2, got ${maxPoints}`, { field: 'maxBatchPoints' });
  }
  // With epochs, batch b of B ends at (b + 1) / B of the whole run: x = (b + 1) · E / B epochs, so
  // epoch k's batches fill [k, k + 1) and its summary sits in the middle, at k + 0.5.
  const inEpochs = epochs.length > 0;
  const xPerBatch = inEpochs ? epochs.length / batch.length : 1;
  const rows: { x: number; loss: number; series: string }[] = [];
  const bucket = Math.max(1, Math.ceil(batch.length / maxPoints));
  for (let start = 0; start < batch.length; start += bucket) {
    const end = Math.min(batch.length, start + bucket);
    let sum = 0;
    let n = 0;
    for (let b = start; b < end; b++) {
      const loss = batch[b]!;
      if (Number.isFinite(loss)) {
        sum += loss;
        n++;
      }
    }
    if (n > 0) rows.push({ x: end * xPerBatch, loss: sum / n, series: 'train loss (batch)' });
  }
  for (let e = 0; e < epochs.length; e++) {
    const rec = epochs[e]!;
    if (Number.isFinite(rec.trainLoss)) rows.push({ x: e + 0.5, loss: rec.trainLoss, series: 'train loss (epoch)' });
    if (rec.validMse !== undefined && Number.isFinite(rec.validMse)) rows.push({ x: e + 0.5, loss: rec.validMse, series: 'valid MSE (epoch)' });
  }
  const domain: string[] = [];
  const range: string[] = [];
  for (const [name, colour] of [
    ['train loss (batch)', '#a6c8e8'],
    ['train loss (epoch)', BLUE],
    ['valid MSE (epoch)', ORANGE],
  ] as const) {
    if (rows.some((r) => r.series === name)) {
      domain.push(name);
      range.push(colour);
    }
  }
  // one tick per epoch, at its middle, labelled as the epoch table numbers it
  const epochLabels = JSON.stringify(epochs.map((r) => String(r.epoch)));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: inEpochs ? 'epoch' : 'batch',
    scale: inEpochs ? { domain: [0, epochs.length], nice: false } : { domainMin: 0 },
    axis: inEpochs ? { values: epochs.map((_, e) => e + 0.5), labelExpr: `${epochLabels}[round(datum.value - 0.5)]` } : { format: 'd' },
  } as const;
  const y = { field: 'loss', type: 'quantitative', title: 'loss (MSE)', scale: { zero: false } } as const;
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain, range }, legend: { orient: 'top', direction: 'horizontal' } } as const;
  return chartSpec(input.title ?? 'Training and validation loss', {
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: "datum.series === 'train loss (batch)'" }],
        mark: { type: 'line', strokeWidth: 1 },
        encoding: { x, y, color },
      },
      {
        transform: [{ filter: "datum.series !== 'train loss (batch)'" }],
        mark: { type: 'line', strokeWidth: 2.5, point: { size: 70, filled: true } },
        encoding: { x, y, color },
      },
    ],
  });
}

/** Font size of scatter labels, and the width of an average character of it in DejaVu Sans / Arial (≈ 0.6 em). */
const LABEL_FONT = 10;
const CHAR_WIDTH = 0.6 * LABEL_FONT;
const LABEL_HEIGHT = LABEL_FONT + 2;

/**
 * A labelled scatter plot (e.g. two principal components of the movie embeddings, one point per
 * movie). Labels are placed greedily in priority order (see `placeLabels`): beside the point when
 * there is room, else further out with a thin leader line to it; labels are never cut, and one that
 * finds no free spot is left out rather than drawn over another.
 */
export function scatterChart(input: ScatterChartInput): PlotSpec {
  const points = input.points;
  const maxLabels = input.maxLabels ?? points.length;
  if (!Number.isInteger(maxLabels) || maxLabels < 0) {
    throw new CollabError('INVALID_OPTION', `scatterChart: maxLabels must be an integer >= 0, got ${maxLabels}`, { field: 'maxLabels' });
  }
  if (points.length === 0) {
    throw new CollabError('INVALID_OPTION', 'scatterChart: no points to draw; pass at least one {x, y, label}', { field: 'points' });
  }
  points.forEach((pt, p) => {
    if (!Number.isFinite(pt.x) || !Number.isFinite(pt.y)) {
      throw new CollabError('INVALID_OPTION', `scatterChart: point ${p} (${pt.label}) has a non-finite coordinate (${pt.x}, ${pt.y})`, { field: 'points' });
    }
  });
  const width = SCATTER_WIDTH;
  const height = SCATTER_HEIGHT;
  // Fixed domains (no "nice" rounding) so pixel positions, and hence label boxes, are known here.
  // A wide margin leaves room for the labels of the outermost points.
  const xDomain = paddedExtent(points.map((p) => p.x), 0.06);
  const yDomain = paddedExtent(points.map((p) => p.y), 0.06);
  const texts = points.slice(0, maxLabels).map((p) => p.label);
  const placed = placeLabels(points, texts, xDomain, yDomain, width, height);
  const grouped = points.some((p) => p.group !== undefined);
  const pointRows = points.map((p) => ({ x: p.x, y: p.y, label: p.label, group: p.group ?? '' }));
  const labelRows = placed.map((l) => ({ x: l.x, y: l.y, text: l.text, align: l.align }));
  const leaderRows = placed.filter((l) => l.leader).map((l) => ({ x: points[l.point]!.x, y: points[l.point]!.y, x2: l.leader![0], y2: l.leader![1] }));
  const scaleX = { domain: xDomain, nice: false, zero: false };
  const scaleY = { domain: yDomain, nice: false, zero: false };
  const color = grouped ? { color: { field: 'group', type: 'nominal', title: null, legend: { orient: 'right' } } } : {};
  return chartSpec(input.title, {
    layer: [
      {
        data: { values: pointRows },
        mark: { type: 'point', filled: true, size: 36, opacity: 0.85, color: BLUE },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: input.xTitle, scale: scaleX },
          y: { field: 'y', type: 'quantitative', title: input.yTitle, scale: scaleY },
          ...color,
        },
      },
      // One text layer per alignment: the text edge nearest its point sits at (x, y) whatever the font.
      ...(['left', 'right', 'center'] as const).map((align) => ({
        data: { values: labelRows },
        transform: [{ filter: `datum.align === '${align}'` }],
        mark: { type: 'text', align, baseline: 'middle', fontSize: LABEL_FONT, color: '#303030' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: scaleX },
          y: { field: 'y', type: 'quantitative', scale: scaleY },
          text: { field: 'text' },
        },
      })),
      // leader lines last: they never cross a label box or another leader, by construction
      {
        data: { values: leaderRows.length > 0 ? leaderRows : [{ x: xDomain[0], y: yDomain[0], x2: xDomain[0], y2: yDomain[0] }] },
        mark: { type: 'rule', color: '#9a9a9a', strokeWidth: 0.8, opacity: leaderRows.length > 0 ? 1 : 0 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: scaleX },
          y: { field: 'y', type: 'quantitative', scale: scaleY },
          x2: { field: 'x2' },
          y2: { field: 'y2' },
        },
      },
    ],
  }, width, height);
}

/** Plot area of the scatter chart: larger than the others, as its labels need the room. */
const SCATTER_WIDTH = 900;
const SCATTER_HEIGHT = 600;

/** A label kept by `placeLabels`, anchored in data coordinates at its vertical middle. */
export interface PlacedLabel {
  /** Index of the point it belongs to. */
  point: number;
  /** x of the anchor: the left edge ('left'), right edge ('right') or centre ('center') of the text. */
  x: number;
  y: number;
  align: 'left' | 'right' | 'center';
  text: string;
  /** Set when the label sits away from its point: where the leader line from the point ends (data coordinates). */
  leader?: [number, number];
}

/**
 * Greedy label placement: label k (in priority order) tries right of, left of, above and below its
 * point, then the diagonals, first next to the point and then at growing distances (joined to it by a
 * leader line), and takes the first spot whose box stays inside the plot and overlaps no kept label,
 * no point and no leader line drawn so far; if none is free it is dropped. Boxes are estimated from
 * the character count.
 */
export function placeLabels(
  points: readonly { x: number; y: number }[],
  texts: readonly string[],
  xDomain: readonly [number, number],
  yDomain: readonly [number, number],
  width: number,
  height: number,
): PlacedLabel[] {
  // Data → pixels: px = (x - x0) / (x1 - x0) · width, py = (y1 - y) / (y1 - y0) · height (y grows down).
  const sx = width / (xDomain[1] - xDomain[0]);
  const sy = height / (yDomain[1] - yDomain[0]);
  const px = points.map((p) => (p.x - xDomain[0]) * sx);
  const py = points.map((p) => (yDomain[1] - p.y) * sy);
  const r = 3.5; // point radius in pixels, plus a hair
  const boxes: [number, number, number, number][] = [];
  const leaders: [number, number, number, number][] = [];
  const kept: PlacedLabel[] = [];
  const free = (box: readonly [number, number, number, number, ...unknown[]]): boolean => {
    if (box[0] < 0 || box[1] < 0 || box[2] > width || box[3] > height) return false;
    if (boxes.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) return false;
    for (let p = 0; p < px.length; p++) {
      if (px[p]! + r > box[0] && px[p]! - r < box[2] && py[p]! + r > box[1] && py[p]! - r < box[3]) return false;
    }
    return !leaders.some((l) => segmentHitsBox(l, box));
  };
  for (let k = 0; k < texts.length && k < points.length; k++) {
    const text = texts[k]!;
    if (text === '') continue;
    const w = text.length * CHAR_WIDTH;
    const h = LABEL_HEIGHT;
    const cx = px[k]!;
    const cy = py[k]!;
    let done = false;
    for (const d of [0, 14, 28, 44, 64, 90, 120]) {
      const g = r + 2 + d;
      const diag = g * Math.SQRT1_2;
      // Candidate boxes as [left, top, right, bottom] in pixels, with the text alignment that keeps
      // the edge next to the point fixed whatever the real glyph widths.
      const candidates: [number, number, number, number, PlacedLabel['align']][] = [
        [cx + g, cy - h / 2, cx + g + w, cy + h / 2, 'left'],
        [cx - g - w, cy - h / 2, cx - g, cy + h / 2, 'right'],
        [cx - w / 2, cy - g - h, cx + w / 2, cy - g, 'center'],
        [cx - w / 2, cy + g, cx + w / 2, cy + g + h, 'center'],
        [cx + diag, cy - diag - h, cx + diag + w, cy - diag, 'left'],
        [cx + diag, cy + diag, cx + diag + w, cy + diag + h, 'left'],
        [cx - diag - w, cy - diag - h, cx - diag, cy - diag, 'right'],
        [cx - diag - w, cy + diag, cx - diag, cy + diag + h, 'right'],
      ];
      for (const box of candidates) {
        if (!free(box)) continue;
        const align = box[4];
        const anchor = align === 'left' ? box[0] : align === 'right' ? box[2] : (box[0] + box[2]) / 2;
        const midY = (box[1] + box[3]) / 2;
        const label: PlacedLabel = { point: k, x: xDomain[0] + anchor / sx, y: yDomain[1] - midY / sy, align, text };
        if (d > 0) {
          // the leader runs from the point to the nearest point of the label's box
          const lx = Math.min(Math.max(cx, box[0]), box[2]);
          const ly = Math.min(Math.max(cy, box[1]), box[3]);
          const seg: [number, number, number, number] = [cx, cy, lx, ly];
          // a leader must not cross a label or pass by another point, or it would name the wrong dot
          if (boxes.some((b) => segmentHitsBox(seg, b))) continue;
          if (px.some((x, p) => p !== k && segmentHitsBox(seg, [x - r - 2, py[p]! - r - 2, x + r + 2, py[p]! + r + 2]))) continue;
          leaders.push(seg);
          label.leader = [xDomain[0] + lx / sx, yDomain[1] - ly / sy];
        }
        boxes.push([box[0], box[1], box[2], box[3]]);
        kept.push(label);
        done = true;
        break;
      }
      if (done) break;
    }
  }
  return kept;
}

/** Whether the segment [x0, y0, x1, y1] passes through the box [left, top, right, bottom] (sampled). */
function segmentHitsBox(seg: readonly [number, number, number, number], box: readonly [number, number, number, number, ...unknown[]]): boolean {
  for (let f = 1; f < 16; f++) {
    const x = seg[0] + ((seg[2] - seg[0]) * f) / 16;
    const y = seg[1] + ((seg[3] - seg[1]) * f) / 16;
    if (x > box[0] && x < box[2] && y > box[1] && y < box[3]) return true;
  }
  return false;
}

/** [min, max] of the values widened by `frac` of the range on each side (or ±1 around a single value). */
function paddedExtent(values: readonly number[], frac: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const pad = hi > lo ? (hi - lo) * frac : Math.max(1, Math.abs(lo) * 0.1);
  return [lo - pad, hi + pad];
}

/** A bar chart of counts per value (the rating histogram). */
export function histogramChart(input: HistogramChartInput): PlotSpec {
  if (input.bins.length === 0) {
    throw new CollabError('INVALID_OPTION', 'histogramChart: no bins to draw; pass at least one {value, count}', { field: 'bins' });
  }
  for (const bin of input.bins) {
    if (!Number.isFinite(bin.value) || !Number.isFinite(bin.count) || bin.count < 0) {
      throw new CollabError('INVALID_OPTION', `histogramChart: bin {value: ${bin.value}, count: ${bin.count}} needs a finite value and a count >= 0`, { field: 'bins' });
    }
  }
  const rows = [...input.bins].sort((a, b) => a.value - b.value).map((b) => ({ value: b.value, count: b.count, label: String(b.value) }));
  const order = rows.map((r) => r.label);
  return chartSpec(input.title, {
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', color: BLUE, cornerRadiusEnd: 2 },
        encoding: {
          x: { field: 'label', type: 'ordinal', sort: order, title: input.xTitle ?? 'rating', axis: { labelAngle: 0 } },
          y: { field: 'count', type: 'quantitative', title: input.yTitle ?? 'number of ratings' },
        },
      },
      {
        mark: { type: 'text', dy: -7, fontSize: 11, color: '#444444' },
        encoding: {
          x: { field: 'label', type: 'ordinal', sort: order, title: input.xTitle ?? 'rating', axis: { labelAngle: 0 } },
          y: { field: 'count', type: 'quantitative' },
          text: { field: 'count', type: 'quantitative', format: ',d' },
        },
      },
    ],
  });
}

/** The smoothed loss at the step whose lr is closest (in log space) to `lr`. */
function lossAt(rows: { lr: number; loss: number; series: string }[], lr: number, series: string): number {
  let best = Infinity;
  let loss = NaN;
  const target = Math.log(lr);
  for (const r of rows) {
    if (r.series !== series) continue;
    const d = Math.abs(Math.log(r.lr) - target);
    if (d < best) {
      best = d;
      loss = r.loss;
    }
  }
  return loss;
}

/** 0.003019 → "3.02e-3": short, and the exponent is what a reader compares. */
function formatLr(lr: number): string {
  return lr.toExponential(2).replace('e+', 'e');
}

