// The training-data table of the model card: one column per person, rows
// downloaded / retweets / short / kept (as in the original's cards). The table
// is numbers first (dataTable); the card renders it as Markdown, report.html
// and the web app as HTML, each from the same numbers.
import type { PostCounts } from './curate.js';

export interface DataTableColumn extends PostCounts {
  handle: string;
  name?: string;
}

/** The table as data: the headings, then one labelled row of counts per quantity. */
export interface DataTable {
  /** "Data", then "Quantity" for one person, or each person's name (their @handle without one) */
  head: string[];
  /** a label, then one count per person */
  rows: Array<{ label: string; counts: number[] }>;
}

const ROWS: Array<[label: string, key: keyof PostCounts]> = [
  ['Tweets downloaded', 'downloaded'],
  ['Retweets', 'retweets'],
  ['Short tweets', 'short'],
  ['Tweets kept', 'kept'],
];

export function dataTable(users: readonly DataTableColumn[]): DataTable {
  const headings = users.length === 1 ? ['Quantity'] : users.map((user) => user.name ?? `@${user.handle}`);
  return {
    head: ['Data', ...headings],
    rows: ROWS.map(([label, key]) => ({ label, counts: users.map((user) => user[key]) })),
  };
}

/**
 * The table in Markdown, as the card and `tweetsmith dataset` print it. The
 * headings are names and handles from the sources: `escapeCell` makes each one
 * a cell (by default only `|` and line breaks are escaped, for a terminal; the
 * card passes its Markdown escaper, so that no Markdown or HTML comes out).
 */
export function renderDataTable(users: readonly DataTableColumn[], escapeCell: (text: string) => string = plainCell): string {
  const { head, rows } = dataTable(users);
  const lines = [
    `| ${head.map(escapeCell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map(({ label, counts }) => `| ${[label, ...counts].join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function plainCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}
