// Live output for the watching commands. On a terminal a frame is redrawn in place (cursor home,
// each line followed by clear-to-end-of-line, then clear-to-end-of-screen), so nothing flickers;
// elsewhere (a pipe, a file, CI logs) each changed frame is printed once, after the previous one.

export interface LiveOptions {
  tty: boolean;
  /** terminal height; a taller frame is cut to fit so the redraw stays in place */
  rows?: number | undefined;
}

export class LiveOutput {
  private readonly write: (text: string) => void;
  private readonly options: LiveOptions;
  private last: string | undefined;
  private started = false;
  frames = 0;

  constructor(write: (text: string) => void, options: LiveOptions) {
    this.write = write;
    this.options = options;
  }

  /** Shows a frame; answers whether anything was written (an unchanged frame writes nothing). */
  show(frame: string): boolean {
    if (frame === this.last) return false;
    this.last = frame;
    this.frames++;
    if (!this.options.tty) {
      this.write(this.frames > 1 ? `\n${frame}` : frame);
      return true;
    }
    let lines = frame.replace(/\n$/, '').split('\n');
    const rows = this.options.rows;
    if (rows && rows > 2 && lines.length > rows - 1) lines = [...lines.slice(0, rows - 2), `… ${lines.length - (rows - 2)} more lines (enlarge the terminal)`];
    const hide = this.started ? '' : '\x1b[?25l';
    this.started = true;
    this.write(`${hide}\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
    return true;
  }

  close(): void {
    if (this.options.tty && this.started) this.write('\x1b[?25h');
  }
}

/** Calls `fn` at most once per `intervalMs`, always once more after the last request. */
export class Throttle {
  private readonly fn: () => void;
  private readonly intervalMs: number;
  private lastRun = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(fn: () => void, intervalMs: number, now: () => number = Date.now) {
    this.fn = fn;
    this.intervalMs = intervalMs;
    this.now = now;
  }

  request(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastRun + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRun = this.now();
      this.fn();
    }, wait);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
