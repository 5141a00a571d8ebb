// The runs in the work dir, newest first; each opens with its link (#run=<id>).
import type { RunState } from './api-types.js';
import { byId, h } from './dom.js';
import { formatTime } from './format.js';

export function renderPastRuns(runs: RunState[], currentId: string | undefined): void {
  const list = byId('past-runs-list');
  // the list is redrawn every few seconds: a link that has the focus keeps it
  const focused = list.contains(document.activeElement) ? document.activeElement?.getAttribute('href') : undefined;
  if (runs.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No runs yet.'));
    return;
  }
  list.replaceChildren(
    ...runs.map((run) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: `#run=${encodeURIComponent(run.id)}`, 'aria-current': run.id === currentId ? 'page' : undefined },
          h('span', { class: 'run-sources' }, run.request.sources.join(', ') || run.id),
          h('span', { class: `badge badge-${run.status}` }, run.status),
          h('small', {}, `${formatTime(run.createdAt)} · ${run.request.base}`),
        ),
      ),
    ),
  );
  if (focused) list.querySelector<HTMLAnchorElement>(`a[href="${CSS.escape(focused)}"]`)?.focus();
}
