// A progress line on stderr: a bar redrawn in place on a terminal, and plain
// lines every so often when stderr is a file or a pipe (CI logs stay readable).
export interface ProgressLine {
  done: number;
  total: number;
  /** what follows the bar, e.g. "loss 3.21 · 512 tok/s" */
  detail: string;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  private readonly started = performance.now();
  private startDone: number | undefined;
  private lastPlain = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** without a terminal, print a line at most this often (ms) */
    private readonly plainEveryMs = 10_000,
  ) {}

  update({ done, total, detail }: ProgressLine): void {
    this.startDone ??= done > 0 ? done - 1 : 0;
    const seconds = (performance.now() - this.started) / 1000;
    const rate = (done - this.startDone) / Math.max(seconds, 1e-9);
    const eta = formatDuration((total - done) / rate);
    const text = `${this.label} ${done}/${total} · ${detail} · ${formatDuration(seconds)} elapsed, ETA ${eta}`;
    if (this.stream.isTTY) {
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - text.length - 4));
      const filled = Math.round((width * done) / Math.max(total, 1));
      this.stream.write(`\r\x1b[K${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${text}`);
    } else if (done === total || performance.now() - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = performance.now();
      this.stream.write(`${text}\n`);
    }
  }

  /** Prints a line above the bar. */
  log(line: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
