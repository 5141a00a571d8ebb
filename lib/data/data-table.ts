// The training-data table of the model card: one column per person, rows
// downloaded / retweets / short / kept (as in the original's cards).
import type { PostCounts } from './curate.js';

export interface DataTableColumn extends PostCounts {
  handle: string;
  name?: string;
}

const ROWS: Array<[label: string, key: keyof PostCounts]> = [
  ['Tweets downloaded', 'downloaded'],
  ['Retweets', 'retweets'],
  ['Short tweets', 'short'],
  ['Tweets kept', 'kept'],
];

/** A Markdown table; one person's column is headed "Quantity", several are headed by their names. */
export function renderDataTable(users: readonly DataTableColumn[]): string {
  const headings = users.length === 1 ? ['Quantity'] : users.map((user) => escapeCell(user.name ?? `@${user.handle}`));
  const lines = [
    `| Data | ${headings.join(' | ')} |`,
    `| --- | ${headings.map(() => '---').join(' | ')} |`,
    ...ROWS.map(([label, key]) => `| ${label} | ${users.map((user) => user[key]).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}
