/**
 * The dashboard as one self-contained HTML page: inline CSS, inline SVG charts, tables, and each
 * table's rows as a CSV `data:` link. No script, no external reference: it opens offline.
 * Every table cell carries its exact value in `data-value` (the text is the rounded display).
 */
import type { PanelData } from './data.js';
import type { ColumnKind, PanelColumn, Row } from './panels.js';

export interface RenderedPanel {
  data: PanelData;
  /** The chart, or undefined when the panel has no rows. */
  svg?: string;
}

export interface Kpi {
  id: string;
  label: string;
  value: string;
}

export interface DashboardPage {
  title: string;
  /** What is shown: the filter in words. */
  scope: string;
  /** Where the numbers come from (the lake, or Athena's database). */
  source: string;
  generatedAt: Date;
  kpis: Kpi[];
  panels: RenderedPanel[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const PERCENT = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatValue(value: string | number | null, kind: ColumnKind): string {
  if (value === null) return '–';
  if (typeof value === 'string') return value;
  if (kind === 'integer') return INTEGER.format(value);
  if (kind === 'number') return DECIMAL.format(value);
  if (kind === 'share') return PERCENT.format(value);
  return String(value);
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV of the rows, header first, exact values. */
export function toCsv(columns: PanelColumn[], rows: Row[]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c.name] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A `data:` URI of the CSV, with a BOM so spreadsheet apps read the dish names as UTF-8. */
export function csvDataUri(csv: string): string {
  return `data:text/csv;charset=utf-8,${encodeURIComponent(`\uFEFF${csv}`)}`;
}

function renderTable(data: PanelData): string {
  const { panel, rows } = data;
  const head = panel.columns.map((c) => `<th scope="col" class="${c.kind}">${escapeHtml(c.label)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${panel.columns.map((c) => {
      const v = row[c.name] ?? null;
      return `<td class="${c.kind}" data-column="${escapeHtml(c.name)}" data-value="${escapeHtml(JSON.stringify(v))}">${escapeHtml(formatValue(v, c.kind))}</td>`;
    }).join('')}</tr>`)
    .join('\n');
  return `<table data-panel="${panel.id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function renderPanel({ data, svg }: RenderedPanel): string {
  const { panel, rows } = data;
  const csv = toCsv(panel.columns, rows);
  return `<section class="panel" id="${panel.id}">
  <header><h2>${escapeHtml(panel.title)}</h2><p>${escapeHtml(panel.explain)}</p></header>
  <div class="body">
    <figure class="chart">${svg ?? '<p class="empty">No data for this period.</p>'}</figure>
    <div class="table">
      ${renderTable(data)}
      <p class="download"><a download="${panel.id}.csv" href="${csvDataUri(csv)}">Download CSV</a> · ${rows.length} row${rows.length === 1 ? '' : 's'} from <code>${escapeHtml(panel.view)}</code></p>
    </div>
  </div>
</section>`;
}

const STYLE = `
:root { --ink: #1f1c18; --muted: #6b645b; --paper: #fbf8f3; --card: #fff; --line: #e8e1d6; --accent: #b5452b;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--paper); line-height: 1.45; }
body { margin: 0; }
.top { padding: 2rem 2rem 1rem; border-bottom: 1px solid var(--line); background: linear-gradient(#f3ebe0, var(--paper)); }
.top h1 { margin: 0; font-family: Georgia, "Times New Roman", serif; font-weight: 600; font-size: 2rem; }
.top p { margin: 0.25rem 0 0; color: var(--muted); }
main { max-width: 76rem; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 1rem; margin-bottom: 1.5rem; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 0.75rem; padding: 1rem 1.25rem; }
.kpi .label { color: var(--muted); font-size: 0.85rem; }
.kpi .value { font-size: 1.7rem; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: 0.15rem; overflow-wrap: anywhere; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 0.75rem; padding: 1.25rem 1.5rem; margin-bottom: 1.5rem; }
.panel h2 { margin: 0; font-size: 1.25rem; }
.panel header p { margin: 0.2rem 0 1rem; color: var(--muted); font-size: 0.92rem; }
.body { display: grid; grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
@media (max-width: 60rem) { .body { grid-template-columns: 1fr; } }
.chart { margin: 0; overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); padding: 0.35rem 0.5rem; }
td { border-bottom: 1px solid var(--line); padding: 0.35rem 0.5rem; }
th.integer, th.number, th.share, td.integer, td.number, td.share { text-align: right; }
td[data-column="item_id"] { color: var(--muted); font-size: 0.8rem; }
.download { font-size: 0.85rem; color: var(--muted); }
.download a { color: var(--accent); font-weight: 600; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 0.8rem; text-align: center; padding-bottom: 2rem; }
`;

export function renderDashboardHtml(page: DashboardPage): string {
  const kpis = page.kpis.map((k) => `<div class="kpi" data-kpi="${k.id}"><div class="label">${escapeHtml(k.label)}</div><div class="value">${escapeHtml(k.value)}</div></div>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.scope)}</p></header>
<main>
<div class="kpis">
${kpis}
</div>
${page.panels.map(renderPanel).join('\n')}
</main>
<footer>From the curated views of ${escapeHtml(page.source)} · generated ${escapeHtml(page.generatedAt.toISOString().replace('T', ' ').slice(0, 16))} UTC by clicklake</footer>
</body>
</html>
`;
}
