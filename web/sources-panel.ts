// The sources of a new run: 1 to 3 of them, each an uploaded file (an X archive
// zip, JSONL, CSV or TXT; dropped or chosen) or a typed network source (@handle,
// bsky:…, mastodon:…). Uploads show their progress; an X archive is reduced in
// the browser to the files tweetsmith reads before it goes up (archive-extract.ts).
import { ApiError, uploadFile } from './api.js';
import { extractArchive } from './archive-extract.js';
import { byId, h } from './dom.js';
import { formatBytes } from './format.js';

export const MAX_SOURCES = 3;
const NETWORK_SOURCE = /^(?:@|x:|bsky:|mastodon:)\S+$/i;

interface SourceItem {
  label: string;
  /** what POST /api/runs takes: an upload id or the source string */
  value?: string;
  status: 'working' | 'ready' | 'error';
  element: HTMLLIElement;
  abort?: AbortController;
}

export class SourcesPanel {
  private readonly items: SourceItem[] = [];
  private readonly list = byId<HTMLUListElement>('source-list');
  private readonly fileInput = byId<HTMLInputElement>('file-input');
  private readonly textInput = byId<HTMLInputElement>('source-text');
  private readonly addButton = byId<HTMLButtonElement>('source-add');
  private readonly dropZone = byId('drop-zone');
  private readonly hint = byId('sources-hint');

  constructor(
    private readonly maxUploadBytes: () => number,
    private readonly onChange: () => void,
  ) {
    this.fileInput.addEventListener('change', () => {
      this.addFiles([...(this.fileInput.files ?? [])]);
      this.fileInput.value = '';
    });
    this.addButton.addEventListener('click', () => this.addTyped());
    this.textInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.addTyped();
      }
    });
    this.dropZone.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.dropZone.classList.add('dragging');
    });
    this.dropZone.addEventListener('dragleave', () => this.dropZone.classList.remove('dragging'));
    this.dropZone.addEventListener('drop', (e) => {
      e.preventDefault();
      this.dropZone.classList.remove('dragging');
      this.addFiles([...(e.dataTransfer?.files ?? [])]);
    });
    this.refresh();
  }

  /** the sources to send, once every one is ready; undefined while any is uploading or failed */
  values(): string[] | undefined {
    if (this.items.length === 0 || this.items.some((item) => item.status !== 'ready')) return undefined;
    return this.items.map((item) => item.value!);
  }

  private room(): number {
    return MAX_SOURCES - this.items.length;
  }

  private addTyped(): void {
    const text = this.textInput.value.trim();
    if (!text) return;
    if (!NETWORK_SOURCE.test(text)) {
      this.say(`"${text}" is not a network source: type @handle (X), bsky:name.bsky.social or mastodon:@name@host. Files go through the upload above.`);
      return;
    }
    if (this.room() <= 0) return this.say(`A run takes at most ${MAX_SOURCES} sources.`);
    const item = this.addItem(text);
    item.value = text;
    this.setStatus(item, 'ready', 'network source: read when the run starts');
    this.textInput.value = '';
  }

  private addFiles(files: File[]): void {
    for (const file of files) {
      if (this.room() <= 0) {
        this.say(`A run takes at most ${MAX_SOURCES} sources: ${file.name} was not added.`);
        continue;
      }
      void this.upload(file, this.addItem(file.name));
    }
  }

  private async upload(file: File, item: SourceItem): Promise<void> {
    item.abort = new AbortController();
    try {
      let body: Blob = file;
      let note = '';
      if (/\.zip$/i.test(file.name)) {
        this.setStatus(item, 'working', 'reading the archive…');
        const extracted = await extractArchive(file, (done, total) =>
          this.setStatus(item, 'working', `taking the posts out of the archive: ${formatBytes(done)} of ${formatBytes(total)}`, done / Math.max(1, total)),
        );
        if (extracted) {
          body = extracted.zip;
          note = ` (${extracted.files.length} files of ${formatBytes(extracted.originalBytes)} taken out in the browser: ${extracted.files.join(', ')})`;
        }
      }
      const cap = this.maxUploadBytes();
      if (body.size > cap) {
        throw new Error(`${file.name} is ${formatBytes(body.size)}, more than the server takes (${formatBytes(cap)}; tweetsmith serve --max-upload changes it)`);
      }
      const upload = await uploadFile(body, file.name, (sent, total) => this.setStatus(item, 'working', `uploading: ${formatBytes(sent)} of ${formatBytes(total)}`, sent / Math.max(1, total)), item.abort.signal);
      item.value = upload.id;
      this.setStatus(item, 'ready', `uploaded, ${formatBytes(upload.bytes)}${note}`);
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
      this.setStatus(item, 'error', `not added: ${message}`);
    }
  }

  private addItem(label: string): SourceItem {
    const element = h('li', { class: 'source' });
    const item: SourceItem = { label, status: 'working', element };
    // Built once: progress only changes the text and the bar, so focus on Remove stays put.
    element.append(
      h('span', { class: 'source-label' }, label),
      h('span', { class: 'source-status' }),
      h('progress', { max: 1, value: 0, 'aria-label': `${label}: progress`, hidden: true }),
      h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove ${label}`, onclick: () => this.remove(item) }, 'Remove'),
    );
    this.items.push(item);
    this.list.append(element);
    this.refresh();
    return item;
  }

  private remove(item: SourceItem): void {
    item.abort?.abort();
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    item.element.remove();
    this.refresh();
    (this.items.length > 0 ? this.list.querySelector<HTMLButtonElement>('button') : this.textInput)?.focus();
  }

  private setStatus(item: SourceItem, status: SourceItem['status'], message: string, fraction?: number): void {
    item.status = status;
    item.element.className = `source source-${status}`;
    item.element.querySelector('.source-status')!.textContent = message;
    const progress = item.element.querySelector('progress')!;
    progress.hidden = !(status === 'working' && fraction !== undefined);
    if (fraction !== undefined) progress.value = fraction;
    // the status line is a live region: say when a source is ready or refused, not every percent
    if (status !== 'working') this.say(`${item.label}: ${message}`);
    this.onChange();
  }

  private say(message: string): void {
    this.hint.textContent = message;
  }

  private refresh(): void {
    const full = this.room() <= 0;
    this.fileInput.disabled = full;
    this.textInput.disabled = full;
    this.addButton.disabled = full;
    this.say(full ? `${MAX_SOURCES} sources: the most a run takes.` : '');
    this.onChange();
  }
}
