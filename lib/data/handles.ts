// Handles and what the model is called (pipeline.md §1).

/** `@Jack` → `jack`: the leading @ dropped, lower-cased. */
export function normalizeHandle(handle: string): string {
  return handle.trim().replace(/^@/, '').toLowerCase();
}

export interface ModelName {
  /** One person makes a "bot", several a "cyborg". */
  kind: 'bot' | 'cyborg';
  /** The handles, normalised, sorted and joined with `-`. */
  name: string;
}

export function modelNameFor(handles: readonly string[]): ModelName {
  const unique = [...new Set(handles.map(normalizeHandle))].sort();
  return { kind: unique.length > 1 ? 'cyborg' : 'bot', name: unique.join('-') };
}
