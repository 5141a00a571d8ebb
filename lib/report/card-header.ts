// The block at the top of the model card: the avatar(s), the name(s) with
// "🤖 AI Bot" or "🤖 AI Cyborg", and the handle(s), in the HTML layout of the
// original tool's cards (a round picture, a bold name line, a handle line).
//
// Raw HTML inside Markdown ends at the first blank line, so the block has none.
// Without a usable avatar URL a grey disc with the person's initial stands in:
// an <img> or url() pointing nowhere would show as a broken picture.
import { escapeHtml, escapeHtmlLine, safeHttpUrl } from './escape-html.js';
import { displayName, initialOf, kindLabel } from './run-facts.js';
import type { RunSummary } from '../train/run-summary.js';

type User = RunSummary['dataset']['users'][number];

// Names and handles: HTML-escaped and on one line (a blank line would end the block).
const text = escapeHtmlLine;

function avatar(user: User, size: number): string {
  const box = `width: ${size}px; height: ${size}px; border-radius: 50%`;
  const url = safeHttpUrl(user.avatarUrl);
  if (url) {
    return `<div style="${box}; background-size: cover; background-image: url('${escapeHtml(url)}')"></div>`;
  }
  const font = Math.round(size * 0.42);
  return (
    `<div style="${box}; background: #d5d9e0; color: #525a66; display: flex; align-items: center; justify-content: center; ` +
    `font-size: ${font}px; font-weight: 700">${text(initialOf(user))}</div>`
  );
}

export function renderCardHeader(summary: RunSummary): string {
  const users = summary.dataset.users;
  const single = users.length === 1;
  const pictures = single
    ? avatar(users[0]!, 132)
    : `<div style="display: flex; gap: 8px">\n${users.map((user) => avatar(user, 92)).join('\n')}\n</div>`;
  const names = users.map((user) => text(displayName(user))).join(' &amp; ');
  const handles = users.map((user) => `@${text(user.handle)}`).join(' &amp; ');
  return [
    '<div>',
    pictures,
    `<div style="margin-top: 8px; font-size: 19px; font-weight: 800">${names} ${kindLabel(summary)}</div>`,
    `<div style="font-size: 15px">${handles} ${single ? 'bot' : 'cyborg'}</div>`,
    '</div>',
    '',
  ].join('\n');
}
