/**
 * A guard around alert channels, so alerting can never hurt trading: `notify` returns at once and
 * delivery happens in the background, one send at a time per channel, at most one per
 * `minIntervalMs`; the same alert (code and text) inside `dedupWindowMs` is sent once, and the next
 * one sent says how many were suppressed; a bounded queue drops the oldest non-critical alert
 * first when full; a failing or hanging channel is logged and counted, never thrown out.
 */
import type { ClockPort } from '../../ports/clock.port.js';
import type { LoggerPort } from '../../ports/logger.port.js';
import type { Alert, NotifierPort } from '../../ports/notifier.port.js';

export interface GuardedNotifier extends NotifierPort {
  /** Resolves once everything queued so far has been delivered or given up on. */
  idle(): Promise<void>;
  stats(): { sent: number; failed: number; suppressed: number; dropped: number; queued: number };
  close(): void;
}

export interface GuardOptions {
  clock: ClockPort;
  logger?: LoggerPort;
  minIntervalMs: number;
  dedupWindowMs: number;
  /** Alerts waiting per channel before the oldest non-critical one is dropped. */
  maxQueue?: number;
}

interface Channel {
  inner: NotifierPort;
  queue: Alert[];
  sending: boolean;
  lastSentAt: number;
  timer: { cancel(): void } | null;
}

/**
 * Guards one or more channels.
 *
 * @example
 * const alerts = guardNotifier([telegram, webhook], { clock, logger, minIntervalMs: 1_000, dedupWindowMs: 60_000 });
 * void alerts.notify({ severity: 'critical', code: 'KILL_SWITCH_TRIPPED', text });
 */
export function guardNotifier(inner: NotifierPort | NotifierPort[], options: GuardOptions): GuardedNotifier {
  const channels: Channel[] = (Array.isArray(inner) ? inner : [inner]).map((notifier) => ({
    inner: notifier,
    queue: [],
    sending: false,
    lastSentAt: -Infinity,
    timer: null,
  }));
  const maxQueue = options.maxQueue ?? 100;
  /** When each (code, text) was last accepted, and how many repeats were suppressed since. */
  const recent = new Map<string, { at: number; suppressed: number }>();
  const stats = { sent: 0, failed: 0, suppressed: 0, dropped: 0 };
  const waiters: Array<() => void> = [];
  let closed = false;

  const busy = () => channels.some((channel) => channel.sending || channel.queue.length > 0);
  function settle(): void {
    if (busy()) return;
    for (const resolve of waiters.splice(0)) resolve();
  }

  function pump(channel: Channel): void {
    if (closed || channel.sending || channel.timer !== null) return;
    const next = channel.queue[0];
    if (next === undefined) return settle();
    const wait = channel.lastSentAt + options.minIntervalMs - options.clock.now();
    if (wait > 0) {
      channel.timer = options.clock.setTimeout(() => {
        channel.timer = null;
        pump(channel);
      }, wait);
      return;
    }
    channel.queue.shift();
    channel.sending = true;
    channel.lastSentAt = options.clock.now();
    void channel.inner
      .notify(next)
      .then(
        () => {
          stats.sent += 1;
        },
        (error: unknown) => {
          stats.failed += 1;
          options.logger?.warn(
            { err: error instanceof Error ? error.message : String(error), code: next.code },
            'an alert channel failed',
          );
        },
      )
      .finally(() => {
        channel.sending = false;
        pump(channel);
      });
  }

  return {
    notify(alert) {
      if (closed) return Promise.resolve();
      const now = options.clock.now();
      const key = `${alert.code}\u0000${alert.text}`;
      const seen = recent.get(key);
      if (seen && now - seen.at < options.dedupWindowMs) {
        seen.suppressed += 1;
        stats.suppressed += 1;
        return Promise.resolve();
      }
      const suppressed = seen?.suppressed ?? 0;
      recent.set(key, { at: now, suppressed: 0 });
      for (const [old, entry] of recent) if (now - entry.at >= options.dedupWindowMs) recent.delete(old);
      const sent: Alert = suppressed > 0 ? { ...alert, data: { ...alert.data, suppressed } } : alert;
      for (const channel of channels) {
        channel.queue.push(sent);
        while (channel.queue.length > maxQueue) {
          const victim = channel.queue.findIndex((queued) => queued.severity !== 'critical');
          channel.queue.splice(victim >= 0 ? victim : 0, 1);
          stats.dropped += 1;
        }
        pump(channel);
      }
      return Promise.resolve();
    },
    idle() {
      if (!busy()) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    stats: () => ({ ...stats, queued: channels.reduce((total, channel) => total + channel.queue.length, 0) }),
    close() {
      closed = true;
      for (const channel of channels) {
        channel.timer?.cancel();
        channel.queue.length = 0;
      }
      for (const resolve of waiters.splice(0)) resolve();
    },
  };
}
