/**
 * Binance USDⓈ-M's user data stream: a listenKey kept alive over REST and a WebSocket that
 * pushes ORDER_TRADE_UPDATE, ALGO_UPDATE and listenKeyExpired. keel does not use ccxt's watch*
 * methods here because they reconnect silently, and keel must know about every gap.
 * Invariants: every way the stream can lose events — a dropped or refused connection, a
 * silent one (no frame within the heartbeat timeout), an expired listenKey, the 24-hour
 * connection limit — is reported as a gap, once when it is noticed and again when the stream is
 * back, so the consumer reconciles over REST for the whole outage; frames are parsed before use
 * and a malformed one is logged and dropped, never thrown into the venue's caller.
 */
import WebSocket from 'ws';
import { z } from 'zod';
import type { ClockPort } from '../../../ports/clock.port.js';
import type { LoggerPort } from '../../../ports/logger.port.js';
import type { VenueResult } from '../../../ports/venue.port.js';

export interface UserStreamTimings {
  /** listenKey keepalive period (default 30 minutes; a key lives 60). */
  keepAliveMs: number;
  /** A connection is replaced after this long, before Binance's 24-hour cut (default 23 h 30 min). */
  reconnectBeforeMs: number;
  /** keel pings this often (default 30 s); any frame counts as a heartbeat. */
  pingMs: number;
  /** No frame for this long means the connection is dead, whatever the socket says (default 75 s). */
  silenceMs: number;
  /** Reconnect backoff: first and longest wait (default 500 ms and 30 s). */
  backoffMs: { first: number; max: number };
}

export const DEFAULT_USER_STREAM_TIMINGS: UserStreamTimings = {
  keepAliveMs: 30 * 60_000,
  reconnectBeforeMs: 23.5 * 60 * 60_000,
  pingMs: 30_000,
  silenceMs: 75_000,
  backoffMs: { first: 500, max: 30_000 },
};

/** The listenKey calls, over the adapter's REST client. */
export interface ListenKeyApi {
  create(): Promise<VenueResult<string>>;
  keepAlive(listenKey: string): Promise<VenueResult<unknown>>;
  close(listenKey: string): Promise<VenueResult<unknown>>;
}

const orderTradeUpdateSchema = z.object({
  e: z.literal('ORDER_TRADE_UPDATE'),
  E: z.number(),
  o: z.looseObject({
    s: z.string(),
    c: z.string(),
    S: z.enum(['BUY', 'SELL']),
    o: z.string(),
    ot: z.string().optional(),
    q: z.string(),
    p: z.string(),
    x: z.string(),
    X: z.string(),
    i: z.union([z.number(), z.string()]),
    l: z.string(),
    z: z.string(),
    L: z.string(),
    n: z.string().optional(),
    N: z.string().nullable().optional(),
    t: z.union([z.number(), z.string()]),
    er: z.string().optional(),
  }),
});

const algoUpdateSchema = z.object({
  e: z.literal('ALGO_UPDATE'),
  E: z.number(),
  o: z.looseObject({
    caid: z.string(),
    aid: z.union([z.number(), z.string()]),
    s: z.string(),
    X: z.string(),
    ai: z.union([z.number(), z.string()]).optional(),
    rm: z.string().optional(),
  }),
});

const listenKeyExpiredSchema = z.object({ e: z.literal('listenKeyExpired'), E: z.number() });

export type OrderTradeUpdate = z.output<typeof orderTradeUpdateSchema>;
export type AlgoUpdate = z.output<typeof algoUpdateSchema>;

export interface UserStreamHandlers {
  onOrderUpdate(update: OrderTradeUpdate): void;
  onAlgoUpdate(update: AlgoUpdate): void;
  /** Events may have been lost: the consumer must reconcile over REST. */
  onGap(reason: string): void;
}

export interface UserStreamOptions {
  /** The WebSocket base (`wss://fstream.binance.com`, or `ws://127.0.0.1:<port>` for the paper venue). */
  wsBase: string;
  /** The path after the base; `{listenKey}` is replaced (default `/private/ws/{listenKey}`). */
  pathTemplate: string;
  api: ListenKeyApi;
  clock: ClockPort;
  timings: UserStreamTimings;
  logger?: LoggerPort;
}

export interface UserStreamStatus {
  connected: boolean;
  /** When the last frame arrived (ms), or null before the first. */
  lastFrameAt: number | null;
  gaps: number;
}

type Timer = { cancel(): void };

/** One user data stream, started on first use and kept up until `stop()`. */
export class BinanceUserStream {
  private socket: WebSocket | null = null;
  private listenKey: string | null = null;
  private stopped = true;
  private connected = false;
  private lastFrameAt: number | null = null;
  private gaps = 0;
  private attempt = 0;
  private reconnectPending = false;
  /** Set while a gap was reported and the stream is not yet back, so "back" reports it again. */
  private outageSince: number | null = null;
  private readonly timers = new Set<Timer>();
  private keepAliveTimer: Timer | null = null;
  private handlers: UserStreamHandlers | null = null;

  constructor(private readonly options: UserStreamOptions) {}

  status(): UserStreamStatus {
    return { connected: this.connected, lastFrameAt: this.lastFrameAt, gaps: this.gaps };
  }

  start(handlers: UserStreamHandlers): void {
    this.handlers = handlers;
    if (!this.stopped) return;
    this.stopped = false;
    // Until the first connection is open, events are not heard: its opening is reported as a gap.
    this.outageSince = this.options.clock.now();
    void this.connect(false);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    this.keepAliveTimer?.cancel();
    this.keepAliveTimer = null;
    this.closeSocket();
    const key = this.listenKey;
    this.listenKey = null;
    if (key !== null) void this.options.api.close(key);
  }

  /** Drops the connection as a network failure would (for tests and `keel paper-venue` drills). */
  interrupt(reason = 'connection interrupted'): void {
    this.lost(reason);
  }

  private async connect(newKey: boolean): Promise<void> {
    this.reconnectPending = false;
    if (this.stopped) return;
    if (newKey || this.listenKey === null) {
      const created = await this.options.api.create();
      if (this.stopped) return;
      if (!created.ok) {
        this.options.logger?.warn({ err: created.message }, 'could not create a listenKey; retrying');
        this.retryLater();
        return;
      }
      this.listenKey = created.value;
      this.scheduleKeepAlive();
    }
    const url = `${this.options.wsBase.replace(/\/+$/, '')}${this.options.pathTemplate.replace('{listenKey}', this.listenKey)}`;
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    this.socket = socket;
    let lifetime: Timer | null = null;
    let ping: Timer | null = null;
    socket.on('open', () => {
      if (socket !== this.socket) return;
      this.connected = true;
      this.attempt = 0;
      this.frame();
      if (this.outageSince !== null) {
        // The stream is back; whatever happened while it was down is only on REST.
        const since = this.outageSince;
        this.outageSince = null;
        this.reportGap(
          `user stream (re)connected after ${this.options.clock.now() - since} ms without a connection; events in between may have been missed`,
        );
      }
      lifetime = this.timer(
        () => this.lost('connection reached its lifetime; replacing it'),
        this.options.timings.reconnectBeforeMs,
      );
      ping = this.every(
        () => {
          if (socket !== this.socket) return;
          if (
            this.lastFrameAt !== null &&
            this.options.clock.now() - this.lastFrameAt > this.options.timings.silenceMs
          ) {
            this.lost(`no frame for ${this.options.clock.now() - this.lastFrameAt} ms`);
            return;
          }
          if (socket.readyState === WebSocket.OPEN) socket.ping();
        },
        Math.min(this.options.timings.pingMs, this.options.timings.silenceMs / 2),
      );
    });
    socket.on('message', (data: WebSocket.RawData) => {
      if (socket !== this.socket) return;
      this.frame();
      this.dispatch(
        Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data as ArrayBuffer).toString('utf8'),
      );
    });
    socket.on('ping', () => this.frame());
    socket.on('pong', () => this.frame());
    socket.on('error', (error: Error) => {
      this.options.logger?.warn({ err: error.message }, 'user stream socket error');
    });
    socket.on('close', (code: number) => {
      lifetime?.cancel();
      ping?.cancel();
      if (socket !== this.socket) return;
      this.lost(`user stream closed (code ${code})`);
    });
  }

  private dispatch(text: string): void {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      this.options.logger?.warn({ size: text.length }, 'user stream frame is not JSON; dropped');
      return;
    }
    const type = payload !== null && typeof payload === 'object' ? (payload as { e?: unknown }).e : undefined;
    if (type === 'ORDER_TRADE_UPDATE') {
      const parsed = orderTradeUpdateSchema.safeParse(payload);
      if (parsed.success) this.handlers?.onOrderUpdate(parsed.data);
      else this.malformed(type, parsed.error.issues);
    } else if (type === 'ALGO_UPDATE') {
      const parsed = algoUpdateSchema.safeParse(payload);
      if (parsed.success) this.handlers?.onAlgoUpdate(parsed.data);
      else this.malformed(type, parsed.error.issues);
    } else if (type === 'listenKeyExpired' && listenKeyExpiredSchema.safeParse(payload).success) {
      // After this no user event arrives on the key: a new key, a new connection, and a reconcile.
      this.listenKey = null;
      this.lost('listenKey expired');
    }
  }

  private malformed(type: string, issues: readonly z.core.$ZodIssue[]): void {
    // A frame keel cannot read may have carried a fill: treat it as a gap, not as silence.
    this.options.logger?.warn(
      { type, issues: issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) },
      'malformed user stream event',
    );
    this.reportGap(`malformed ${type} event`);
  }

  private lost(reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) {
      socket.removeAllListeners('close');
      socket.on('error', () => undefined);
      socket.terminate();
    }
    if (this.stopped) return;
    if (this.outageSince === null) this.outageSince = this.options.clock.now();
    this.reportGap(reason);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.stopped || this.reconnectPending) return;
    this.reconnectPending = true;
    const { first, max } = this.options.timings.backoffMs;
    const wait = Math.min(max, first * 2 ** Math.min(this.attempt, 16));
    this.attempt += 1;
    this.timer(() => void this.connect(this.listenKey === null), wait);
  }

  private scheduleKeepAlive(): void {
    this.keepAliveTimer?.cancel();
    this.keepAliveTimer = this.options.clock.setInterval(() => {
      const key = this.listenKey;
      if (key === null || this.stopped) return;
      void this.options.api.keepAlive(key).then((answer) => {
        if (answer.ok || this.stopped) return;
        this.options.logger?.warn({ err: answer.message, code: answer.code }, 'listenKey keepalive refused');
        if (answer.code === -1125) {
          // The key is gone (-1125): events on it are lost until a new key is connected.
          this.listenKey = null;
          this.lost('listenKey no longer exists');
        }
      });
    }, this.options.timings.keepAliveMs);
  }

  private reportGap(reason: string): void {
    this.gaps += 1;
    this.options.logger?.warn({ reason }, 'user stream gap');
    this.handlers?.onGap(reason);
  }

  private frame(): void {
    this.lastFrameAt = this.options.clock.now();
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (!socket) return;
    socket.removeAllListeners('close');
    socket.on('error', () => undefined);
    socket.close();
  }

  private timer(callback: () => void, ms: number): Timer {
    const handle = this.options.clock.setTimeout(() => {
      this.timers.delete(handle);
      callback();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  private every(callback: () => void, ms: number): Timer {
    const handle = this.options.clock.setInterval(callback, ms);
    this.timers.add(handle);
    return {
      cancel: () => {
        handle.cancel();
        this.timers.delete(handle);
      },
    };
  }
}
