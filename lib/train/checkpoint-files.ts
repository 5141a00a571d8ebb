// The files a checkpoint adds to a model folder's (what each holds: checkpoint.ts).
export const CHECKPOINT_FILES = {
  adamM: 'adam_m.safetensors',
  adamV: 'adam_v.safetensors',
  users: 'users.json',
  state: 'state.json',
} as const;
