// The server's HTTP API, as the page calls it. Every error the server sends is
// JSON { error }; it reaches the user as that message, with the status.
import type { Defaults, RunState, Upload } from './api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(response.status, `${message} (HTTP ${response.status})`);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export interface RunRequestBody {
  sources: string[];
  base: string;
  options: Record<string, unknown>;
}

export interface GenerateBody {
  run: string;
  prompt: string;
  n: number;
  temperature: number;
  topP: number;
  maxLength?: number;
  seed?: number;
}

export const api = {
  defaults: () => request<Defaults>('GET', '/api/defaults'),
  runs: async () => {
    const body = await request<RunState[] | { runs: RunState[] }>('GET', '/api/runs');
    return Array.isArray(body) ? body : body.runs;
  },
  run: (id: string) => request<RunState>('GET', `/api/runs/${encodeURIComponent(id)}`),
  createRun: (body: RunRequestBody) => request<{ id: string }>('POST', '/api/runs', body),
  stop: (id: string) => request<unknown>('POST', `/api/runs/${encodeURIComponent(id)}/stop`, {}),
  resume: (id: string) => request<unknown>('POST', `/api/runs/${encodeURIComponent(id)}/resume`, {}),
  /** the events stream (replayed from the start, then live) */
  events: async (id: string, signal: AbortSignal) => {
    const response = await fetch(`/api/runs/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' }, signal });
    if (!response.ok || !response.body) throw await errorOf(response);
    return response.body;
  },
  /** POST /api/generate asking for a stream; a server that answers JSON gives the samples at once */
  generate: async (body: GenerateBody, signal: AbortSignal) => {
    const response = await fetch('/api/generate', {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  },
};

/** URLs of a run's files, for links (the browser fetches them itself). */
export const runLinks = (id: string) => ({
  card: `/api/runs/${encodeURIComponent(id)}/files/README.md`,
  report: `/api/runs/${encodeURIComponent(id)}/files/report.html`,
  download: `/api/runs/${encodeURIComponent(id)}/download`,
});

/**
 * POST /api/uploads through XMLHttpRequest, because fetch() cannot report an
 * upload's progress; `onProgress` gets the bytes sent so far and the total.
 */
export function uploadFile(file: Blob, name: string, onProgress: (sent: number, total: number) => void, signal?: AbortSignal): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/uploads');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body && typeof (body as Upload).id === 'string') resolve(body as Upload);
      else {
        const message = body && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : xhr.statusText || 'the upload failed';
        reject(new ApiError(xhr.status, `${message} (HTTP ${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload failed: the server could not be reached'));
    xhr.onabort = () => reject(new DOMException('the upload was cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, name);
    xhr.send(form);
  });
}
