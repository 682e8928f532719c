import { type Dirent, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CollabError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';

/** A chart description: a vega-lite spec with its data inline, as the chart builders return it. */
export type PlotSpec = TopLevelSpec;

/** The file formats `writePlot` can write, chosen by the path's extension. */
export type PlotFormat = 'svg' | 'png';

/** How a chart becomes a PNG. */
export interface PngOptions {
  /** Pixel density: 1 gives the chart's own size (about 800×500), 2 a sharper image twice as wide. Default 2. */
  scale?: number;
}

/** Options of `writePlot`. */
export interface WritePlotOptions extends PngOptions {
  /** Name of the CLI flag the path came from, used in error messages. Default 'plot'. */
  flag?: string;
}

/**
 * Font files tried first for PNG text, so rendering does not depend on which fonts fontconfig lists
 * first. Debian/Ubuntu's fonts-dejavu-core and Fedora's dejavu-sans-fonts put them here.
 */
const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf',
  '/Library/Fonts/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

/** Folders resvg scans for system fonts; looked into so that a machine without any fails clearly. */
const FONT_DIRS = [
  '/usr/share/fonts',
  '/usr/local/share/fonts',
  join(homedir(), '.fonts'),
  join(homedir(), '.local', 'share', 'fonts'),
  '/Library/Fonts',
  '/System/Library/Fonts',
  'C:\\Windows\\Fonts',
];

/** resvg's font settings. */
export type PngFontOptions = NonNullable<ResvgRenderOptions['font']>;

/**
 * Font settings for resvg: the system fonts, with DejaVu Sans (or Arial) standing in for the generic
 * 'sans-serif' when one of `candidates` exists; undefined when neither a candidate nor any font file
 * under `dirs` exists, since resvg would then silently draw charts without text.
 */
export function findFonts(candidates: readonly string[] = FONT_CANDIDATES, dirs: readonly string[] = FONT_DIRS): PngFontOptions | undefined {
  const fontFiles = candidates.filter((f) => existsSync(f));
  if (fontFiles.length > 0) {
    const family = fontFiles.some((f) => /dejavu/i.test(f)) ? 'DejaVu Sans' : 'Arial';
    return { loadSystemFonts: true, fontFiles, defaultFontFamily: family, sansSerifFamily: family };
  }
  return dirs.some((d) => hasFontFile(d, 4)) ? { loadSystemFonts: true } : undefined;
}

/** True when `dir` or a folder below it (up to `depth` levels) holds a TrueType/OpenType file. */
function hasFontFile(dir: string, depth: number): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const e of entries) if (e.isFile() && /\.(ttf|otf|ttc)$/i.test(e.name)) return true;
  if (depth === 0) return false;
  return entries.some((e) => e.isDirectory() && hasFontFile(join(dir, e.name), depth - 1));
}

let fontOptions: PngFontOptions | undefined;

/** The machine's font settings for PNG text (see `findFonts`); NOT_FOUND when it has no font at all. */
export function pngFontOptions(): PngFontOptions {
  fontOptions ??= findFonts();
  if (fontOptions === undefined) {
    throw new CollabError(
      'NOT_FOUND',
      'no font found to draw the text of PNG charts; install one (Debian/Ubuntu: apt-get install fonts-dejavu-core) or write the chart as .svg',
    );
  }
  return fontOptions;
}

/** Compiles a vega-lite spec and renders it headless (no canvas, no DOM) to an SVG document. */
export async function renderSvg(spec: PlotSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a chart to PNG bytes: vega's SVG rasterized by resvg with system fonts (see `pngFontOptions`). */
export async function renderPng(spec: PlotSpec, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!Number.isFinite(scale) || scale <= 0 || scale > 8) {
    throw new CollabError('INVALID_OPTION', `PNG scale must be a number above 0 and at most 8, got ${scale}`, { field: 'scale' });
  }
  return svgToPng(await renderSvg(spec), scale);
}

/** Rasterizes an SVG document to PNG bytes at `scale` times its size, on a white background. */
export function svgToPng(svg: string, scale = 1): Uint8Array {
  const resvg = new Resvg(svg, { font: pngFontOptions(), fitTo: { mode: 'zoom', value: scale }, background: 'white' });
  return resvg.render().asPng();
}

/** The format a plot path asks for, from its extension; INVALID_OPTION naming the flag otherwise. */
export function plotFormatOf(path: string, flag = 'plot'): PlotFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  const got = ext === '' ? 'no extension' : `extension "${ext}"`;
  throw new CollabError(
    'INVALID_OPTION',
    `--${flag} ${path}: cannot tell the image format from ${got}; end the file name with .svg or .png`,
    { field: flag },
  );
}

/** Writes a chart to `path` as SVG or PNG by its extension, atomically (a temp file renamed into place). */
export async function writePlot(path: string, spec: PlotSpec, options: WritePlotOptions = {}): Promise<void> {
  const format = plotFormatOf(path, options.flag);
  const bytes = format === 'svg' ? await renderSvg(spec) : await renderPng(spec, options);
  writeFileAtomic(path, bytes);
}
