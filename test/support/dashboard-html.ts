/** Reads the dashboard page's tables back: each panel's rows as the exact `data-value`s of its cells. */

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

export type TableRow = Record<string, string | number | null>;

export function panelRows(html: string, panel: string): TableRow[] {
  const table = new RegExp(`<table data-panel="${panel}">([\\s\\S]*?)</table>`).exec(html);
  if (!table) throw new Error(`no table for panel ${panel}`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table[1]!)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) =>
    Object.fromEntries([...tr[1]!.matchAll(/data-column="([^"]*)" data-value="([^"]*)"/g)].map((m) => [unescapeHtml(m[1]!), JSON.parse(unescapeHtml(m[2]!)) as string | number | null])),
  );
}

/** The CSV behind a panel's "Download CSV" link, decoded (BOM removed). */
export function panelCsv(html: string, panel: string): string {
  const link = new RegExp(`<a download="${panel}\\.csv" href="data:text/csv;charset=utf-8,([^"]*)"`).exec(html);
  if (!link) throw new Error(`no CSV link for panel ${panel}`);
  return decodeURIComponent(unescapeHtml(link[1]!)).replace(/^\uFEFF/, '');
}
