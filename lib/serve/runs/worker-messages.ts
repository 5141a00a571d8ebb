// What the run manager and its training child say to each other over IPC.
import type { TrainEvent } from '../../train/train.js';
import type { StoredRequest } from './run-store.js';

/** Parent → child. */
export type ToWorker =
  | {
      type: 'start';
      /** the run's folder (absolute); the model goes to its `model/`, a tiny base to its `base/` */
      runDir: string;
      request: StoredRequest;
      /** continue from the checkpoint beside `model/` */
      resume: boolean;
      threads: number;
      /** train()'s checkpointEvery, in steps */
      checkpointEvery: number;
    }
  /** end after the current step with a checkpoint */
  | { type: 'stop' };

/** Child → parent. */
export type FromWorker =
  | { type: 'event'; event: TrainEvent }
  /** train() returned: finished, or stopped with a checkpoint */
  | { type: 'result'; interrupted: boolean }
  /** train() (or the setup before it) threw: the message only, the stack is in worker.log */
  | { type: 'error'; message: string };
