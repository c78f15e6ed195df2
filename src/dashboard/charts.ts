/**
 * Vega-Lite specs to SVG in Node, headless (`renderer: 'none'`): no browser, no canvas, no
 * network. The same spec and rows give the same SVG text.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif';

/** The dashboard's look, laid under every chart. */
const CONFIG: NonNullable<TopLevelSpec['config']> = {
  font: FONT,
  background: 'transparent',
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#6b645b', labelColor: '#1f1c18', gridColor: '#eee7dc', domainColor: '#cfc6b8', tickColor: '#cfc6b8' },
  axisY: { grid: false },
  axisX: { grid: true },
};

/**
 * The chart as SVG text. Vega numbers clip paths with a counter global to the process; they are
 * renamed `<idPrefix>-clipN`, counted from 1 in this chart, so the text depends only on the spec
 * and the ids stay unique among the page's charts.
 */
export async function renderChartSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { spec: vega } = compile({ ...spec, config: { ...CONFIG, ...spec.config } } as TopLevelSpec);
  const view = new View(parse(vega), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const ids = new Map<string, string>();
  return svg.replace(/\bclip\d+\b/g, (id) => {
    if (!ids.has(id)) ids.set(id, `${idPrefix}-clip${ids.size + 1}`);
    return ids.get(id)!;
  });
}
