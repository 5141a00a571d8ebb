// When to stop asking a service for the next page. The cursor comes from the
// server, so a server that hands back a cursor it gave before, or pages with
// nothing new on them, would otherwise keep a run asking forever: both end
// the reading (with a line on the progress sink that says why), as does a
// page count far beyond any real timeline. A real service may send a page
// emptied by deleted or filtered posts (X says so of its timelines), so only
// a few such pages in a row end it.
import { SOURCE_LIMITS } from '../defaults.js';
import type { ProgressSink } from './rate-limit-wait.js';

/** Pages in a row with nothing new after which the reading ends. */
export const MAX_PAGES_WITHOUT_NEW_POSTS = 3;

export class Pagination {
  private readonly seen = new Set<string>();
  private pages = 0;
  private emptyInARow = 0;

  constructor(
    private readonly source: string,
    private readonly progress: ProgressSink,
    private readonly maxPages: number = SOURCE_LIMITS.maxPages,
  ) {}

  /**
   * After a page that added `newPosts` posts and named `cursor` as the next:
   * the cursor to ask for, or undefined to stop.
   */
  next(cursor: string | undefined, newPosts: number): string | undefined {
    this.pages++;
    if (cursor === undefined || cursor === '') return undefined;
    const stop = (why: string) => {
      this.progress.write(`${this.source}: ${why}; stopping after ${this.pages} pages\n`);
      return undefined;
    };
    if (this.seen.has(cursor)) return stop('the server gave a page cursor it had given before');
    this.emptyInARow = newPosts === 0 ? this.emptyInARow + 1 : 0;
    if (this.emptyInARow >= MAX_PAGES_WITHOUT_NEW_POSTS) return stop(`the server gave ${MAX_PAGES_WITHOUT_NEW_POSTS} pages in a row with no new posts`);
    if (this.pages >= this.maxPages) return stop(`read ${this.maxPages} pages, the most tweetsmith reads from one source`);
    this.seen.add(cursor);
    return cursor;
  }
}
