// From downloaded posts to the tweets kept for training, with the four counts
// of the model card (pipeline.md §2–3).
import type { Post } from '../sources/post.js';
import { cleanTweet, fixText, isBoringTweet, type CleanOptions } from './clean.js';

/** The model card's numbers; downloaded = retweets + short + kept. */
export interface PostCounts {
  downloaded: number;
  retweets: number;
  /** Every non-retweet that cleaning dropped (fewer than 3 real words once URLs are gone). */
  short: number;
  kept: number;
}

export interface CuratedPosts {
  /** The cleaned text of each kept post, in the order of the input. */
  kept: string[];
  counts: PostCounts;
}

export function curatePosts(posts: readonly Post[], options: CleanOptions = {}): CuratedPosts {
  const kept: string[] = [];
  let retweets = 0;
  let short = 0;
  for (const post of posts) {
    if (post.isRetweet) {
      retweets++;
      continue;
    }
    const tweet = cleanTweet(fixText(post.text), options);
    if (isBoringTweet(tweet)) short++;
    else kept.push(tweet);
  }
  return { kept, counts: { downloaded: posts.length, retweets, short, kept: kept.length } };
}
