import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { histogramChart } from './charts.js';
import { findFonts, plotFormatOf, pngFontOptions, renderPng, writePlot } from './render.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (bytes 16-23, big-endian). */
function pngSize(png: Uint8Array): [number, number] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
}

const spec = histogramChart({
  bins: [
    { value: 1, count: 10 },
    { value: 2, count: 30 },
  ],
  title: 'Ratings',
});

describe('renderPng', () => {
  it('gives a PNG of about 800×500 at scale 1 and twice that at the default scale 2', async () => {
    const one = await renderPng(spec, { scale: 1 });
    assert.deepEqual([...one.subarray(0, 8)], PNG_SIGNATURE);
    const [w, h] = pngSize(one);
    assert.ok(w >= 700 && w <= 900, `width ${w}`);
    assert.ok(h >= 420 && h <= 560, `height ${h}`);
    const two = await renderPng(spec);
    assert.deepEqual(pngSize(two), [w * 2, h * 2]);
  });

  it('refuses a nonsense scale', async () => {
    await assert.rejects(renderPng(spec, { scale: 0 }), { code: 'INVALID_OPTION', message: 'PNG scale must be a number above 0 and at most 8, got 0' });
  });

  it('has a font for text: a word in sans-serif paints dark pixels', () => {
    // If this fails the machine has no usable font; install fonts-dejavu-core (Debian/Ubuntu).
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="28" font-family="sans-serif" font-size="24">Movies</text></svg>';
    const pixels = new Resvg(svg, { font: pngFontOptions(), background: 'white' }).render().pixels;
    let dark = 0;
    for (let p = 0; p < pixels.length; p += 4) if (pixels[p]! < 128) dark++;
    assert.ok(dark > 100, `only ${dark} dark pixels: text did not render`);
  });
});

describe('findFonts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-fonts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers a known DejaVu file, falls back to any font under the font folders, else finds none', () => {
    const deep = join(dir, 'fonts', 'truetype', 'x');
    mkdirSync(deep, { recursive: true });
    assert.equal(findFonts([], [join(dir, 'fonts')]), undefined, 'no font file anywhere');
    writeFileSync(join(deep, 'Some.otf'), '');
    assert.deepEqual(findFonts([], [join(dir, 'fonts')]), { loadSystemFonts: true });
    const dejavu = join(dir, 'DejaVuSans.ttf');
    writeFileSync(dejavu, '');
    assert.deepEqual(findFonts([join(dir, 'missing.ttf'), dejavu], []), {
      loadSystemFonts: true,
      fontFiles: [dejavu],
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    });
  });
});

describe('writePlot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collab-plot-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes SVG or PNG by extension, case-insensitively, leaving no temp file', async () => {
    await writePlot(join(dir, 'hist.SVG'), spec);
    await writePlot(join(dir, 'hist.png'), spec);
    const svg = readFileSync(join(dir, 'hist.SVG'), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('>Ratings</text>'));
    assert.deepEqual([...readFileSync(join(dir, 'hist.png')).subarray(0, 8)], PNG_SIGNATURE);
    assert.deepEqual(readdirSync(dir).sort(), ['hist.SVG', 'hist.png']);
  });

  it('refuses an unknown extension, naming the flag and the path, before writing anything', async () => {
    const path = join(dir, 'lr.jpg');
    await assert.rejects(writePlot(path, spec, { flag: 'plot' }), {
      code: 'INVALID_OPTION',
      message: `--plot ${path}: cannot tell the image format from extension ".jpg"; end the file name with .svg or .png`,
    });
    assert.equal(existsSync(path), false);
    assert.throws(() => plotFormatOf('losses', 'plot-losses'), {
      message: '--plot-losses losses: cannot tell the image format from no extension; end the file name with .svg or .png',
    });
  });
});
