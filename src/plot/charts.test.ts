import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramChart, lossChart, lrFinderChart, placeLabels, scatterChart } from './charts.js';
import { renderSvg } from './render.js';

/** The inline rows of a chart spec (top-level data or one layer's data). */
function rowsOf(spec: unknown, layer?: number): Record<string, unknown>[] {
  const s = spec as { data?: { values: Record<string, unknown>[] }; layer: { data?: { values: Record<string, unknown>[] } }[] };
  const data = layer === undefined ? s.data : s.layer[layer]!.data;
  return data!.values;
}

/** True when the SVG draws `text` as one text element (vega escapes &, < and >). */
function hasText(svg: string, text: string): boolean {
  return svg.includes(`>${text}</text>`);
}

function ramp(n: number): { lrs: number[]; losses: number[] } {
  const lrs: number[] = [];
  const losses: number[] = [];
  for (let s = 0; s < n; s++) {
    lrs.push(1e-6 * 10 ** (s / 10));
    losses.push(s < n - 3 ? 2 - s / n : 50 * s);
  }
  return { lrs, losses };
}

describe('lrFinderChart', () => {
  it('draws a log-scale lr axis with titles, a legend and the labelled suggestion', async () => {
    const { lrs, losses } = ramp(50);
    const spec = lrFinderChart({ lrs, losses, rawLosses: losses.map((l) => l + 0.01), suggestion: 3.2e-3, suggestionName: 'valley' });
    const svg = await renderSvg(spec);
    assert.ok(hasText(svg, 'Learning rate finder'));
    assert.ok(hasText(svg, 'learning rate (log scale)'));
    assert.ok(hasText(svg, 'training loss'));
    assert.ok(hasText(svg, 'valley lr = 3.20e-3'));
    assert.ok(hasText(svg, 'smoothed loss') && hasText(svg, 'raw loss'), 'legend names both series');
    assert.ok(hasText(svg, '1e-4'), 'log axis labels in powers of ten');
  });

  it('cuts the y axis a little above the start of the descent so divergence does not flatten the curve', () => {
    const { lrs, losses } = ramp(50);
    const spec = lrFinderChart({ lrs, losses }) as unknown as { layer: { encoding: { y: { scale: { domain: number[] } } } }[] };
    const [lo, hi] = spec.layer[0]!.encoding.y.scale.domain as [number, number];
    // The minimum skips the first tenth like fastai's plot, 2 - 46/50 = 1.08; the top fits the whole
    // curve before it, start included, 2: span 0.92, so [1.08 - 0.046, 2 + 0.092].
    assert.ok(Math.abs(lo - 1.034) < 1e-9, `low end ${lo}`);
    assert.ok(Math.abs(hi - 2.092) < 1e-9, `high end ${hi}`);
  });

  it('puts the suggestion label right of the rule, or left of it in the right third of the axis', () => {
    const lrs = [1e-6, 1e-4, 1e-2];
    const losses = [2, 1, 3];
    const alignOf = (suggestion: number): unknown => {
      const spec = lrFinderChart({ lrs, losses, suggestion }) as unknown as { layer: { mark: { type: string; align?: string } }[] };
      return spec.layer.find((l) => l.mark.type === 'text')!.mark.align;
    };
    assert.equal(alignOf(1e-4), 'left');
    assert.equal(alignOf(3e-3), 'right');
  });

  it('puts the suggestion label beside the rule, clear of the curve', () => {
    // a curve that passes right of the rule near the top: the label moves down to free space
    const lrs = Array.from({ length: 60 }, (_, s) => 1e-6 * 10 ** (s / 10));
    const losses = lrs.map((lr) => 2 - 0.8 * Math.exp(-((Math.log10(lr) + 2) ** 2)));
    const suggestion = 1e-3;
    const spec = lrFinderChart({ lrs, losses, suggestion }) as unknown as { layer: { mark: { type: string; align?: string; dx?: number }; data: { values: Record<string, number>[] }; encoding: { y: { scale: { domain: number[] } } } }[] };
    const text = spec.layer.find((l) => l.mark.type === 'text')!;
    const [lo, hi] = spec.layer[0]!.encoding.y.scale.domain as [number, number];
    const labelY = text.data.values[0]!.labelLoss!;
    assert.equal(text.mark.align, 'left');
    assert.equal(text.mark.dx, 10, 'a gap between the rule and the label');
    assert.ok(labelY > lo && labelY < hi, 'the label is inside the plot');
    // the curve right of the rule, within the label's width (≈ 22 chars · 8 px of 640 px over 6 decades), stays 9 px away
    const pxPerLoss = 380 / (hi - lo);
    const decades = (22 * 8 + 14) / 640 * 6;
    for (let s = 0; s < lrs.length; s++) {
      if (lrs[s]! < suggestion || Math.log10(lrs[s]! / suggestion) > decades) continue;
      assert.ok(Math.abs(losses[s]! - labelY) * pxPerLoss >= 9, `curve at lr ${lrs[s]} (loss ${losses[s]}) runs through the label at ${labelY}`);
    }
  });

  it('drops non-finite losses and refuses mismatched lengths or an empty curve', () => {
    const spec = lrFinderChart({ lrs: [1e-5, 1e-4, 1e-3], losses: [1, 0.5, Number.NaN] });
    assert.equal(rowsOf(spec, 0).length, 2);
    assert.throws(() => lrFinderChart({ lrs: [1e-5, 1e-4], losses: [1] }), {
      code: 'INVALID_OPTION',
      message: 'lrFinderChart: lrs has 2 values but losses has 1; pass one loss per lr',
    });
    assert.throws(() => lrFinderChart({ lrs: [1e-5], losses: [Infinity] }), {
      message: 'lrFinderChart: no finite (lr, loss) pair to draw; run the lr finder for more steps',
    });
    assert.throws(() => lrFinderChart({ lrs: [1e-5], losses: [1], suggestion: -1 }), {
      message: 'lrFinderChart: suggestion must be a positive learning rate, got -1',
    });
  });
});

describe('lossChart', () => {
  const epochs = [
    { epoch: 0, trainLoss: 0.95, validMse: 0.9 },
    { epoch: 1, trainLoss: 0.8, validMse: 0.85 },
  ];

  it('has title, axis titles and a legend entry per series', async () => {
    const svg = await renderSvg(lossChart({ batchLosses: [1.2, 1.1, 1.0, 0.9], epochs }));
    for (const text of ['Training and validation loss', 'epoch', 'loss (MSE)', 'train loss (batch)', 'train loss (epoch)', 'valid MSE (epoch)']) {
      assert.ok(hasText(svg, text), `missing "${text}"`);
    }
  });

  it('places batches on the epoch axis and epoch k in the middle of its batches, x = k + 0.5', () => {
    const rows = rowsOf(lossChart({ batchLosses: [1.2, 1.1, 1.0, 0.9], epochs }));
    const batch = rows.filter((r) => r.series === 'train loss (batch)').map((r) => r.x);
    // 4 batches over 2 epochs: batch b ends at (b + 1) · 2 / 4.
    assert.deepEqual(batch, [0.5, 1, 1.5, 2]);
    const valid = rows.filter((r) => r.series === 'valid MSE (epoch)').map((r) => [r.x, r.loss]);
    assert.deepEqual(valid, [
      [0.5, 0.9],
      [1.5, 0.85],
    ]);
  });

  it('numbers the epoch ticks as the epoch table does (0 first), one per epoch', async () => {
    const svg = await renderSvg(lossChart({ batchLosses: [1.2, 1.1, 1.0, 0.9, 0.8, 0.7], epochs: [...epochs, { epoch: 2, trainLoss: 0.7, validMse: 0.8 }] }));
    const ticks = [...svg.matchAll(/role-axis-label[\s\S]*?<\/g><\/g>/g)].map((m) => [...m[0].matchAll(/>([^<>]+)<\/text>/g)].map((t) => t[1]));
    assert.ok(ticks.some((labels) => labels.join(',') === '0,1,2,epoch'), `x tick labels: ${JSON.stringify(ticks)}`);
  });

  it('averages long batch runs into at most maxBatchPoints buckets', () => {
    const batchLosses = Array.from({ length: 10 }, (_, b) => b);
    const rows = rowsOf(lossChart({ batchLosses, epochs: [], maxBatchPoints: 4 }));
    // Buckets of ceil(10 / 4) = 3: means of [0,1,2], [3,4,5], [6,7,8], [9], at the bucket's last batch.
    assert.deepEqual(
      rows.map((r) => [r.x, r.loss]),
      [
        [3, 1],
        [6, 4],
        [9, 7],
        [10, 9],
      ],
    );
  });

  it('omits the validation series when no epoch has one, and refuses an empty history', async () => {
    const svg = await renderSvg(lossChart({ epochs: [{ epoch: 1, trainLoss: 1 }] }));
    assert.ok(hasText(svg, 'train loss (epoch)'));
    assert.ok(!hasText(svg, 'valid MSE (epoch)'));
    assert.throws(() => lossChart({ epochs: [] }), {
      message: 'lossChart: no epochs and no batch losses to draw; train for at least one epoch',
    });
  });
});

describe('scatterChart', () => {
  it('labels points with their titles and has title and axis titles', async () => {
    const points = [
      { x: 0, y: 0, label: 'Toy Story (1995)' },
      { x: 1, y: 1, label: 'Heat (1995)' },
      { x: -1, y: 0.5, label: 'A very long title that goes on and on (1999)' },
    ];
    const svg = await renderSvg(scatterChart({ points, title: 'PCA of movies', xTitle: 'component 1', yTitle: 'component 2' }));
    for (const text of ['PCA of movies', 'component 1', 'component 2', 'Toy Story (1995)', 'Heat (1995)', 'A very long title that goes on and on (1999)']) {
      assert.ok(hasText(svg, text), `missing "${text}"`);
    }
  });

  it('labels only the first maxLabels points', () => {
    const points = [0, 1, 2, 3].map((k) => ({ x: k * 10, y: k * 10, label: `m${k}` }));
    const spec = scatterChart({ points, title: 't', xTitle: 'x', yTitle: 'y', maxLabels: 2 });
    assert.deepEqual(
      rowsOf(spec, 1)
        .map((r) => r.text)
        .sort(),
      ['m0', 'm1'],
    );
    assert.equal(rowsOf(spec, 0).length, 4);
  });

  it('refuses non-finite coordinates, naming the point', () => {
    assert.throws(() => scatterChart({ points: [{ x: 0, y: Number.NaN, label: 'Heat' }], title: 't', xTitle: 'x', yTitle: 'y' }), {
      message: 'scatterChart: point 0 (Heat) has a non-finite coordinate (0, NaN)',
    });
  });
});

describe('placeLabels', () => {
  // 600×300 px over [0, 100]×[0, 100]: 6 px per x unit, 3 px per y unit.
  const xDomain = [0, 100] as const;
  const yDomain = [0, 100] as const;

  it('puts a label right of its point, in data units of its left edge', () => {
    const [l] = placeLabels([{ x: 50, y: 50 }], ['abc'], xDomain, yDomain, 600, 300);
    // Point at (300, 150) px; the box starts r + 2 = 5.5 px to the right: x = 305.5 / 6.
    assert.equal(l!.point, 0);
    assert.equal(l!.align, 'left');
    assert.ok(Math.abs(l!.x - 305.5 / 6) < 1e-9);
    assert.ok(Math.abs(l!.y - 50) < 1e-9);
  });

  it('moves a label left when the right side would leave the plot', () => {
    const [l] = placeLabels([{ x: 99, y: 50 }], ['abcdef'], xDomain, yDomain, 600, 300);
    // Right-aligned, its right edge 5.5 px left of the point at 594 px.
    assert.equal(l!.align, 'right');
    assert.ok(Math.abs(l!.x - (594 - 5.5) / 6) < 1e-9);
  });

  it('drops a label that fits nowhere and keeps the one placed first', () => {
    // A 100×14 px strip (1 px per x unit): no room above or below any point. A's label fits right of
    // A; B at 95 px has no room on its right, and its 60 px label on the left would cover A.
    const kept = placeLabels(
      [
        { x: 50, y: 50 },
        { x: 95, y: 50 },
      ],
      ['ab', 'tenletters'],
      xDomain,
      yDomain,
      100,
      14,
    );
    assert.deepEqual(
      kept.map((l) => [l.text, l.x]),
      [['ab', 55.5]],
    );
  });
});

describe('scatterChart on a crowded map', () => {
  it('labels every point of a cloud with its whole title, however long', () => {
    const rng = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const next = rng(7);
    const points = Array.from({ length: 30 }, (_, k) => ({ x: next(), y: next(), label: `A movie with a longer title, no. ${k} (19${String(k).padStart(2, '0')})` }));
    const spec = scatterChart({ points, title: 't', xTitle: 'x', yTitle: 'y' });
    const labels = rowsOf(spec, 1).map((r) => r.text as string);
    assert.equal(labels.length, 30, 'every point labelled');
    assert.ok(labels.every((t) => /^A movie with a longer title, no\. \d+ \(19\d\d\)$/.test(t)), 'no label is cut');
  });

  it('placeLabels: a crowded label moves out along a leader line, and no two label boxes overlap', () => {
    const xDomain = [0, 100] as const;
    const yDomain = [0, 100] as const;
    const points = [
      { x: 50, y: 50 },
      { x: 51, y: 50 },
      { x: 49, y: 50 },
      { x: 50, y: 52 },
      { x: 50, y: 48 },
      { x: 52, y: 52 },
    ];
    const kept = placeLabels(points, ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'], xDomain, yDomain, 600, 300);
    assert.equal(kept.length, 6);
    assert.ok(kept.some((l) => l.leader !== undefined), 'some label needed a leader line');
    const box = (l: (typeof kept)[number]) => {
      const w = l.text.length * 6;
      const left = l.align === 'left' ? l.x * 6 : l.align === 'right' ? l.x * 6 - w : l.x * 6 - w / 2;
      const mid = (100 - l.y) * 3;
      return [left, mid - 6, left + w, mid + 6] as const;
    };
    for (let a = 0; a < kept.length; a++) {
      for (let b = a + 1; b < kept.length; b++) {
        const [p, q] = [box(kept[a]!), box(kept[b]!)];
        assert.ok(!(p[0] < q[2] - 1e-9 && q[0] < p[2] - 1e-9 && p[1] < q[3] - 1e-9 && q[1] < p[3] - 1e-9), `${kept[a]!.text} overlaps ${kept[b]!.text}`);
      }
    }
  });
});

describe('histogramChart', () => {
  it('draws bars in value order with counts, title and axis titles', async () => {
    const spec = histogramChart({
      bins: [
        { value: 5, count: 1200 },
        { value: 0.5, count: 3 },
        { value: 3, count: 40 },
      ],
      title: 'Ratings in ml-100k',
    });
    assert.deepEqual(
      rowsOf(spec).map((r) => r.label),
      ['0.5', '3', '5'],
    );
    const svg = await renderSvg(spec);
    for (const text of ['Ratings in ml-100k', 'rating', 'number of ratings', '1,200', '0.5']) {
      assert.ok(hasText(svg, text), `missing "${text}"`);
    }
  });

  it('refuses empty or negative bins', () => {
    assert.throws(() => histogramChart({ bins: [], title: 't' }), { message: 'histogramChart: no bins to draw; pass at least one {value, count}' });
    assert.throws(() => histogramChart({ bins: [{ value: 1, count: -2 }], title: 't' }), {
      message: 'histogramChart: bin {value: 1, count: -2} needs a finite value and a count >= 0',
    });
  });
});
