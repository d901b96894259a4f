// Vega-Lite specs → SVG (Vega's own headless renderer) → PNG (resvg). Both libraries load on
// first use, so commands that draw nothing never pay for them.
import { writeFileAtomic } from '../io/atomic.js';

/** A Vega-Lite specification (top-level JSON object). */
export type VegaLiteSpec = Record<string, unknown>;

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Shared look: white background, one readable font, no chart border. */
export function withTheme(spec: VegaLiteSpec): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: FONT,
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
      title: { fontSize: 14, anchor: 'start' },
    },
    ...spec,
  };
}

/** The SVG text of a Vega-Lite spec. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(withTheme(spec) as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, at `scale` × its size (2: crisp on high-density screens and in print). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return r.render().asPng();
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeFigure(spec: VegaLiteSpec, base: string): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  writeFileAtomic(`${base}.svg`, svg);
  writeFileAtomic(`${base}.png`, await svgToPng(svg));
  return { svg: `${base}.svg`, png: `${base}.png` };
}
