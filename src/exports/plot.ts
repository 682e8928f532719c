/** collab/plot: charts as vega-lite specs, rendered headless to SVG or PNG. */
export * from '../plot/index.js';
