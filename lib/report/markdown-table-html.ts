// The training-data table of report.html is the card's table, converted: the
// rows and their labels are defined once, in renderDataTable (lib/data), and
// the report shows exactly what the card shows.
import { escapeHtml } from './escape.js';

/** The cells of one Markdown table row; `\|` is a pipe inside a cell, not a border. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/**
 * A GitHub-style Markdown table (header row, `---` row, body rows) as an HTML
 * table. Cells are plain text: they are HTML-escaped, so the input must hold
 * no escapes but `\|`. Columns after the first are numbers, right-aligned.
 */
export function markdownTableToHtml(markdown: string, caption?: string): string {
  const lines = markdown.split('\n').filter((line) => line.trim().startsWith('|'));
  const [head, , ...body] = lines;
  if (head === undefined) return '';
  const th = cells(head).map((cell, i) => `<th${i > 0 ? ' class="num"' : ''} scope="col">${escapeHtml(cell)}</th>`);
  const rows = body.map((line) => {
    const [label = '', ...values] = cells(line);
    return `<tr><th scope="row">${escapeHtml(label)}</th>${values.map((v) => `<td class="num">${escapeHtml(v)}</td>`).join('')}</tr>`;
  });
  return [
    '<table>',
    ...(caption ? [`<caption>${escapeHtml(caption)}</caption>`] : []),
    `<thead><tr>${th.join('')}</tr></thead>`,
    `<tbody>${rows.join('')}</tbody>`,
    '</table>',
  ].join('\n');
}
