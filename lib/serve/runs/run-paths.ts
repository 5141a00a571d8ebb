// The browser never sees the server's absolute paths: a path inside the run's
// folder becomes relative to it ('model', 'model.checkpoint'), one elsewhere in
// the work dir relative too ('../../uploads/…'), and the home folder '~'. Every
// train() event and error message passes through here before it is stored or
// sent, so events.jsonl holds no absolute path either.
import { homedir } from 'node:os';
import { relative, sep } from 'node:path';
import type { TrainEvent } from '../../train/train.js';

export class PathHider {
  private readonly replacements: [string, string][];

  /** `runDir` and `workDir` absolute; `baseLabel` names a base found outside the work dir (a hub cache snapshot). */
  constructor(
    private readonly runDir: string,
    private readonly workDir: string,
    private readonly baseLabel: string,
  ) {
    // longest first: the run folder lies inside the work dir, which may lie inside home
    const home = homedir();
    const pairs: [string, string][] = [
      [runDir + sep, ''],
      [runDir, '.'],
      [workDir + sep, relative(runDir, workDir) + sep],
      [workDir, relative(runDir, workDir)],
    ];
    if (home && home !== sep) pairs.push([home + sep, '~' + sep], [home, '~']);
    this.replacements = pairs;
  }

  /** A string with every absolute path under the run, the work dir or home rewritten. */
  text(message: string): string {
    let out = message;
    for (const [from, to] of this.replacements) out = out.split(from).join(to);
    return out;
  }

  /** A path as the browser may see it. */
  path(path: string): string {
    const inside = relative(this.workDir, path);
    if (!inside.startsWith('..') && !inside.startsWith(sep)) return relative(this.runDir, path) || '.';
    return this.text(path);
  }

  /** The event with its paths and messages rewritten (a new object; the rest is shared). */
  event(event: TrainEvent): TrainEvent {
    switch (event.type) {
      case 'base': {
        const inside = !relative(this.workDir, event.dir).startsWith('..');
        return { ...event, dir: inside ? this.path(event.dir) : this.baseLabel };
      }
      case 'checkpoint':
      case 'weights':
      case 'saved':
        return { ...event, dir: this.path(event.dir) };
      case 'note':
        return { ...event, message: this.text(event.message) };
      case 'dataset':
        return { ...event, table: this.text(event.table), warnings: event.warnings.map((w) => this.text(w)) };
      case 'device':
        return { ...event, reason: this.text(event.reason) };
      default:
        return event;
    }
  }
}
