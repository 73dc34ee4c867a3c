/**
 * `keel replay <correlation id | clientOrderId> [--db PATH | --journal FILE] [--json]`: the lifecycle
 * timeline of one intent, each transition with its cause and time. Exit codes: 0 a timeline was
 * printed; 1 no journal event matches the key; 2 bad options, a missing or unreadable source, or a
 * journal line that is not a valid event (the message names the line). The database is opened
 * read-only: replay never creates, migrates or writes a file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { readJournalReadOnly } from '../adapters/store/sqlite.store.js';
import { BadInputError } from '../domain/errors.js';
import type { JournalEvent } from '../ports/store.port.js';
import {
  journalEventSchema,
  timelineOf,
  type Timeline,
  type TimelineEvent,
} from '../domain/journal-timeline.js';
import { issuesOf, parseOrThrow } from '../domain/parse.js';

export const REPLAY_EXIT = { ok: 0, notFound: 1, badInput: 2 } as const;

/** Where `keel run` keeps its database unless told otherwise. */
export const DEFAULT_DB = join('.keel', 'keel.db');

const replayOptionsSchema = z
  .object({
    key: z.string().trim().min(1, 'give a correlation id or a clientOrderId'),
    db: z.string().min(1).optional(),
    journal: z.string().min(1).optional(),
    json: z.boolean().optional(),
  })
  .refine((options) => options.db === undefined || options.journal === undefined, {
    path: ['journal'],
    message: 'give either --db or --journal, not both',
  });

type ReplaySource = { kind: 'db'; path: string } | { kind: 'journal'; path: string };

function sourceOf(options: z.output<typeof replayOptionsSchema>): ReplaySource {
  if (options.journal !== undefined) return { kind: 'journal', path: options.journal };
  return { kind: 'db', path: options.db ?? DEFAULT_DB };
}

function readDatabase(path: string): TimelineEvent[] {
  // Checked first: better-sqlite3 would otherwise create an empty database at a mistyped path.
  if (!existsSync(path)) {
    throw new BadInputError(`no database at ${path}`, [{ path: 'db', message: 'file does not exist' }]);
  }
  let events: JournalEvent[];
  try {
    events = readJournalReadOnly(path);
  } catch (error) {
    throw new BadInputError(`${path} is not a keel database`, [{ path: 'db', message: messageOf(error) }]);
  }
  return events.map((event) =>
    parseOrThrow(
      journalEventSchema,
      event,
      `journal row seq ${event.seq ?? '?'} of ${path} is not a valid event`,
    ),
  );
}

function readMirror(path: string): TimelineEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BadInputError(`cannot read journal ${path}`, [{ path: 'journal', message: messageOf(error) }]);
  }
  const events: TimelineEvent[] = [];
  text.split('\n').forEach((line, index) => {
    // A blank line (the file's final newline) carries no event.
    if (line.trim() === '') return;
    const where = `line ${index + 1} of ${path}`;
    const value = parseJson(line, where, `line ${index + 1}`);
    const result = journalEventSchema.safeParse(value);
    if (!result.success) {
      throw new BadInputError(
        `${where} is not a valid journal event`,
        issuesOf(result.error).map((issue) => ({
          path: `line ${index + 1}: ${issue.path || '(root)'}`,
          message: issue.message,
        })),
      );
    }
    events.push(result.data);
  });
  return events;
}

function parseJson(text: string, where: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadInputError(`${where} is not valid JSON`, [{ path, message: messageOf(error) }]);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function renderText(timeline: Timeline): string {
  const lines = [
    `replay ${timeline.key}: correlation ${timeline.correlationId}, clientOrderId ${
      timeline.clientOrderIds.join(', ') || '(none)'
    }`,
  ];
  for (const event of timeline.events) {
    const move =
      event.from !== null || event.to !== null ? `  ${event.from ?? '∅'} → ${event.to ?? '∅'}` : '';
    const reason = event.reasonCode === null ? '' : `  reason=${event.reasonCode}`;
    const cause = event.causingEventId === null ? '' : `  cause=${event.causingEventId}`;
    lines.push(
      `${new Date(event.ts).toISOString()}  ${event.type}${move}  [${event.stage}/${event.source}]${reason}${cause}  (${event.eventId})`,
    );
  }
  const entry = timeline.registry;
  lines.push(
    entry === null
      ? 'registry: no registry.created event for this key'
      : `registry: ${entry.intentId} ${entry.status}${entry.tag === null ? '' : ` tag=${entry.tag}`}` +
          `${entry.venueOrderId === null ? '' : ` venueOrderId=${entry.venueOrderId}`}`,
  );
  return lines.join('\n');
}

function fail(error: BadInputError, json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify({ error: { code: error.code, message: error.message, issues: error.issues } }),
    );
  } else {
    console.error(error.message);
    for (const issue of error.issues) console.error(`  ${issue.path}: ${issue.message}`);
  }
  process.exitCode = REPLAY_EXIT.badInput;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('Show the lifecycle timeline of one intent from the database or its JSONL journal')
    .argument('[key]', 'a correlation id or a clientOrderId')
    .option('--db <path>', `the SQLite database (default ${DEFAULT_DB})`)
    .option('--journal <file>', 'the JSONL journal mirror instead of the database')
    .option('--json', 'print the timeline as JSON')
    // Commander's own usage errors (an unknown option, a missing value) are bad input too: exit 2.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : REPLAY_EXIT.badInput))
    .action((key: string | undefined, raw: { db?: string; journal?: string; json?: boolean }) => {
      const json = raw.json === true;
      let timeline: Timeline | null;
      let wanted = '';
      try {
        const options = parseOrThrow(
          replayOptionsSchema,
          { ...raw, key: key ?? '' },
          'invalid replay options',
        );
        const source = sourceOf(options);
        const journal = source.kind === 'db' ? readDatabase(source.path) : readMirror(source.path);
        wanted = options.key;
        timeline = timelineOf(journal, wanted);
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        fail(error, json);
        return;
      }
      if (timeline === null) {
        console.error(`no journal events for ${wanted}`);
        process.exitCode = REPLAY_EXIT.notFound;
        return;
      }
      console.log(json ? JSON.stringify(timeline) : renderText(timeline));
    });
}
