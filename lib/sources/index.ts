// Where posts come from: X (archive or API), Bluesky, Mastodon, local files.
export type { Author, Post, SourcePosts } from './post.js';
export { looksLikeRetweet } from './post.js';
export { SourceError } from './errors.js';
export { SOURCE_SYNTAX, parseSourceString, sourceKey, type SourceSpec } from './source-string.js';
export { readSource, type SourceOptions } from './read-source.js';
export { systemClock, type Clock, type ProgressSink } from './rate-limit-wait.js';
export { readXArchive } from './x-archive.js';
export { readXTimeline, X_TIMELINE_CAP, type XApiOptions } from './x-api.js';
export { readBlueskyFeed, type BlueskyOptions } from './bluesky.js';
export { readMastodonStatuses, type MastodonOptions } from './mastodon.js';
export { readCsvFile, readJsonLinesFile, readTextFile } from './local-files.js';
export { parseCsv } from './csv-parse.js';
export { htmlToText } from './html-to-text.js';
