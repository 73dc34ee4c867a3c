/**
 * The append-only JSONL mirror of the journal: one JSON object per committed event, for
 * `tail -f` and for tools that do not speak SQLite.
 * Invariants: it holds committed events only, in seq order, each once; a torn last line
 * (a crash mid-append) is cut off on open; it can always be caught up from the database,
 * which stays the single durability point (so the mirror is written without fsync).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { JournalEvent } from '../../ports/store.port.js';

/** One event already serialised, with its seq. */
export interface MirrorLine {
  seq: number;
  line: string;
}

export class JournalMirror {
  readonly path: string;
  private readonly fd: number;
  private last: number;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'a+');
    this.last = this.recoverTail();
  }

  /** The seq of the last event in the file; 0 when it is empty. */
  get lastSeq(): number {
    return this.last;
  }

  /** Appends the events newer than the file's last seq, in order. */
  append(events: readonly JournalEvent[]): void {
    this.appendLines(events.map((event) => ({ seq: event.seq ?? 0, line: JSON.stringify(event) })));
  }

  /** Appends serialised events newer than the file's last seq, in order. */
  appendLines(lines: readonly MirrorLine[]): void {
    const fresh = lines.filter((entry) => entry.seq > this.last);
    if (fresh.length === 0) return;
    const bytes = Buffer.from(fresh.map((entry) => `${entry.line}\n`).join(''), 'utf8');
    const size = fstatSync(this.fd).size;
    try {
      for (let written = 0; written < bytes.length;) {
        written += writeSync(this.fd, bytes, written, bytes.length - written);
      }
    } catch (error) {
      // Never leave a torn line in the middle of the file: the next append would follow it.
      ftruncateSync(this.fd, size);
      throw error;
    }
    this.last = fresh[fresh.length - 1]?.seq ?? this.last;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Reads back to the last newline: drops a torn tail and returns the last whole line's seq. */
  private recoverTail(): number {
    const size = fstatSync(this.fd).size;
    if (size === 0) return 0;
    let chunk = 4096;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      readSync(this.fd, buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end === -1 && start > 0) {
        chunk *= 2;
        continue;
      }
      if (start + end + 1 < size) ftruncateSync(this.fd, start + end + 1);
      if (end === -1) return 0;
      const before = text.lastIndexOf('\n', end - 1);
      if (before === -1 && start > 0) {
        chunk *= 2;
        continue;
      }
      const line = text.slice(before + 1, end);
      const parsed = JSON.parse(line) as { seq?: unknown };
      return typeof parsed.seq === 'number' ? parsed.seq : 0;
    }
  }
}
