// The run record: the folder `run/` beside the model card that keeps what a
// training run read, produced and measured, so that a card's numbers can be
// checked against the files they came from.
//
//   config.json    the summary without metrics and samples (settings, dataset stats, base, shape, times, hashes)
//   metrics.jsonl  one MetricRow a line
//   posts.jsonl    every post as read, all people
//   train.txt      the training text (<|endoftext|>-joined, all epochs)
//   valid.txt      the held-out posts (only with a validation split)
//   samples.json   the samples generated at the end
//   report.html    the same, for people: curves, tables, samples

/** The folder's name, relative to the model folder (and so to the card). */
export const RUN_RECORD_DIR = 'run';

export const RUN_RECORD_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  posts: 'posts.jsonl',
  trainText: 'train.txt',
  validText: 'valid.txt',
  samples: 'samples.json',
  report: 'report.html',
} as const;

export const RUN_RECORD_FORMAT = 'tweetsmith-run';
