/** Charts as vega-lite specs, rendered headless to SVG or PNG. */
export {
  lrFinderChart,
  lossChart,
  scatterChart,
  histogramChart,
  placeLabels,
  type PlacedLabel,
  type LrFinderChartInput,
  type LossChartInput,
  type ScatterChartInput,
  type ScatterPoint,
  type HistogramChartInput,
} from './charts.js';
export {
  renderSvg,
  renderPng,
  svgToPng,
  writePlot,
  plotFormatOf,
  findFonts,
  pngFontOptions,
  type PngFontOptions,
  type PlotSpec,
  type PlotFormat,
  type PngOptions,
  type WritePlotOptions,
} from './render.js';
