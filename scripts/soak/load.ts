/**
 * The soak's load: a seeded client of keel's HTTP API at a fixed rate of actions — entries (market,
 * near and far limits, each with a stop-loss), take-profits and exits against the venue's position,
 * cancels and replaces of its own resting orders. Every request is retried honestly across kills
 * (api.ts), and every submission keel acknowledged (HTTP 2xx) is recorded with the status it carried.
 * Invariants: an intent's id, body and Idempotency-Key are fixed when it is planned and never change;
 * choices come from the seeded generator (what they act on — prices, positions, which orders rest —
 * comes from the running system, so two runs of one seed differ in detail, not in kind).
 */
import { readPaperMarket } from '../../src/adapters/venue/paper/paper.store.js';
import { seededRandom } from '../../src/chaos/plan.js';
import { BLOCKED_TAG } from '../../src/chaos/truth.js';
import type { IntentInput } from '../../src/domain/intent.schema.js';
import type { Api, ApiAnswer } from './api.js';

export const SYMBOL = 'BTCUSDT';

/** Who the soak's intents say they come from: every intent it sends, the flattening exits included. */
export const SOAK_OWNER = {
  bot_id: 'soak-bot',
  client_id: 'keel-soak',
  source: 'api',
  venue: 'paper',
  account: 'main',
  symbol: SYMBOL,
} as const satisfies Partial<IntentInput>;
/** How many strategies the entries are spread over: enough that one live entry per strategy rarely binds. */
const STRATEGIES = 200;
const POLL_MS = 1_000;
const BELIEF_POLL_MS = 5_000;
/** Above this absolute position, entries lean (four in five) towards reducing it, keeping exposure bounded. */
const LEAN_ABOVE_QTY = 0.05;
const REFUSALS_SHOWN = 10;

/** A finding of the client itself: something keel answered that an invariant forbids. */
export interface ClientFinding {
  invariant: 'acknowledged-survives-crash' | 'protective-never-blocked' | 'idempotent-retry';
  detail: string;
}

export interface LoadStats {
  /** Intents planned and sent at least once (entries, take-profits, exits, flattens). */
  submitted: number;
  cancels: number;
  replaces: number;
  /** Attempts that got no answer and were sent again. */
  retries: number;
  /** Requests keel refused with a 4xx (a replace the entry blockers refused, a bad body). */
  refused: number;
  /** Submissions still unanswered when the drain deadline passed. */
  unanswered: number;
  killSwitchTrips: string[];
}

/** What the client knows of one of its intents: enough to pick cancel and replace targets. */
interface Known {
  status: string;
  type: string;
}

export interface LoadDriverOptions {
  seed: number;
  /** Actions per second. */
  rate: number;
  api: Api;
  paperDir: string;
  log: (line: string) => void;
}

/**
 * @example
 * const load = new LoadDriver({ seed: 1, rate: 20, api, paperDir, log: console.log });
 * load.start(); … await load.stop(60_000);
 */
export class LoadDriver {
  /** Intent id → the status of the 2xx answer to its submission. */
  readonly acknowledged = new Map<string, string>();
  readonly findings: ClientFinding[] = [];
  readonly stats: LoadStats = {
    submitted: 0,
    cancels: 0,
    replaces: 0,
    retries: 0,
    refused: 0,
    unanswered: 0,
    killSwitchTrips: [],
  };

  private readonly random: () => number;
  private readonly known = new Map<string, Known>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private price: number | null = null;
  private position = 0;
  private mode = 'unknown';
  private issued = 0;
  private next = 0;
  private startedAt = 0;
  private giveUpAt = Number.POSITIVE_INFINITY;
  private loading = false;

  constructor(private readonly options: LoadDriverOptions) {
    this.random = seededRandom(options.seed ^ 0x50a4);
  }

  start(): void {
    this.readMarket();
    this.startedAt = performance.now();
    this.loading = true;
    this.timers.push(setInterval(() => this.issueDue(), 20));
    this.timers.push(setInterval(() => this.track(this.poll()), POLL_MS));
    this.timers.push(setInterval(() => this.track(this.watchBelief()), BELIEF_POLL_MS));
  }

  /**
   * Stops planning actions and waits for those in flight: a request keeps retrying for `drainMs`
   * more, so this takes at most that plus one request's timeout.
   */
  async stop(drainMs: number): Promise<void> {
    this.loading = false;
    for (const timer of this.timers) clearInterval(timer);
    this.giveUpAt = performance.now() + drainMs;
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  /** Stops at once: nothing new is planned and requests in flight give up at their next failure. */
  async halt(): Promise<void> {
    await this.stop(0);
  }

  /** Lets requests made after the load (the settle phase's) keep retrying until `at` (performance.now()). */
  retryUntil(at: number): void {
    this.giveUpAt = at;
  }

  /** keel's belief mode and the venue's position and price as last read, for progress lines. */
  describe(): string {
    return `mode ${this.mode}, position ${this.position}, price ${this.price ?? '?'}`;
  }

  /** Reads the venue's last price and position from its data dir (the market a strategy would watch). */
  readMarket(): { price: number | null; position: number } {
    const market = readPaperMarket(this.options.paperDir);
    if (market) {
      this.price = market.prices[SYMBOL] ?? this.price;
      this.position = market.positions[SYMBOL]?.qty ?? 0;
    }
    return { price: this.price, position: this.position };
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) =>
      this.options.log(`load: ${error instanceof Error ? error.message : String(error)}`),
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private issueDue(): void {
    if (!this.loading) return;
    const due = Math.floor(((performance.now() - this.startedAt) * this.options.rate) / 1_000);
    while (this.issued < due) {
      this.issued += 1;
      this.track(this.act());
    }
  }

  private giveUp = (): boolean => performance.now() > this.giveUpAt;

  private retried = (): void => {
    this.stats.retries += 1;
  };

  private async poll(): Promise<void> {
    try {
      this.readMarket();
    } catch {
      // A read that failed (the database not there yet, or locked for a moment): the next poll retries.
    }
    const answer = await this.options.api.once({ method: 'GET', path: '/v1/intents?limit=500' });
    if (answer.kind !== 'answer' || answer.status !== 200) return;
    const intents = (answer.json.intents ?? []) as Array<Record<string, unknown>>;
    for (const result of intents) {
      const id = String(result.intent_id);
      const known = this.known.get(id);
      if (!known) continue;
      known.status = String(result.status);
    }
  }

  private async watchBelief(): Promise<void> {
    const answer = await this.options.api.once({ method: 'GET', path: '/v1/belief' });
    if (answer.kind !== 'answer' || answer.status !== 200) return;
    this.mode = typeof answer.json.mode === 'string' ? answer.json.mode : 'unknown';
    const killSwitch = (answer.json.killSwitch ?? {}) as {
      view?: { tripped?: boolean; trigger?: string };
      trip?: { reason?: string } | null;
    };
    if (killSwitch.view?.tripped !== true) return;
    // A trip is keel doing its job, not a violation; an operator resets it so the load keeps
    // exercising the order path instead of a wall of blocked entries. Each trip is reported.
    const why = `${killSwitch.view.trigger ?? 'unknown'}: ${killSwitch.trip?.reason ?? 'no reason given'}`;
    this.stats.killSwitchTrips.push(why);
    this.options.log(`kill switch tripped (${why}); resetting it as an operator would`);
    await this.options.api.once({
      method: 'POST',
      path: '/v1/kill/reset',
      body: { reason: 'keel soak: keep the load flowing after a reported trip', by: 'keel-soak' },
    });
  }

  private async act(): Promise<void> {
    const roll = this.random();
    const { price } = this;
    if (price === null) return this.entry('market', 50_000);
    if (roll < 0.25) return this.entry('market', price);
    if (roll < 0.45) return this.entry('near', price);
    if (roll < 0.55) return this.entry('far', price);
    if (roll < 0.65) return this.reduce('tp', price);
    if (roll < 0.75) return this.reduce('exit', price);
    if (roll < 0.9) return this.cancelSomething(price);
    return this.replaceSomething(price);
  }

  private nextId(): string {
    const id = `soak-${this.options.seed}-${this.next}`;
    this.next += 1;
    return id;
  }

  private qty(): number {
    return Number(((1 + Math.floor(this.random() * 5)) / 1_000).toFixed(3));
  }

  private base(): Pick<
    IntentInput,
    'strategy_id' | 'bot_id' | 'client_id' | 'source' | 'venue' | 'account' | 'symbol'
  > {
    return { strategy_id: `soak-s${Math.floor(this.random() * STRATEGIES)}`, ...SOAK_OWNER };
  }

  private async entry(shape: 'market' | 'near' | 'far', price: number): Promise<void> {
    const lean = Math.abs(this.position) > LEAN_ABOVE_QTY && this.random() < 0.8;
    const side = lean ? (this.position > 0 ? 'sell' : 'buy') : this.random() < 0.5 ? 'buy' : 'sell';
    const away = (from: number, fraction: number): number =>
      tick(side === 'buy' ? from * (1 - fraction) : from * (1 + fraction));
    const limit =
      shape === 'market'
        ? null
        : away(price, shape === 'near' ? 0.0005 + this.random() * 0.0025 : 0.03 + this.random() * 0.03);
    const input: IntentInput = {
      ...this.base(),
      side,
      kind: 'ENTRY',
      qty: this.qty(),
      // Below a buy's price (above a sell's): from the limit for a limit, from the last price for a market.
      stop_loss: away(limit ?? price, 0.01 + this.random() * 0.02),
      confidence: 0.9,
      ...(limit === null ? { type: 'market' } : { type: 'limit', price: limit }),
    };
    await this.submit(this.nextId(), input);
  }

  /** A take-profit or an exit against the venue's position; an entry when flat. */
  private async reduce(kind: 'tp' | 'exit', price: number): Promise<void> {
    if (Math.abs(this.position) < 0.001) return this.entry('market', price);
    const side = this.position > 0 ? 'sell' : 'buy';
    const qty = Math.min(Math.abs(this.position), this.qty());
    const base = { ...this.base(), side, qty: Number(qty.toFixed(3)), reduce_only: true } as const;
    const input: IntentInput =
      kind === 'exit'
        ? { ...base, kind: 'EXIT', type: 'market' }
        : {
            ...base,
            kind: 'TP',
            type: 'take_profit_market',
            // In profit: a long's take-profit sells above the price, a short's buys below it.
            stop_price: tick(
              side === 'sell'
                ? price * (1 + 0.001 + this.random() * 0.004)
                : price * (1 - 0.001 - this.random() * 0.004),
            ),
          };
    await this.submit(this.nextId(), input);
  }

  private resting(types: readonly string[]): string[] {
    const ids: string[] = [];
    for (const [id, known] of this.known) {
      if (known.status === 'SENT_TO_BROKER' && types.includes(known.type)) ids.push(id);
    }
    return ids;
  }

  private pick(ids: readonly string[]): string | undefined {
    return ids[Math.floor(this.random() * ids.length)];
  }

  private async cancelSomething(price: number): Promise<void> {
    const target = this.pick(this.resting(['limit', 'take_profit_market']));
    if (target === undefined) return this.entry('far', price);
    await this.cancel(target, true);
  }

  private async replaceSomething(price: number): Promise<void> {
    const target = this.pick(this.resting(['limit']));
    if (target === undefined) return this.entry('near', price);
    const qty = this.qty();
    this.stats.replaces += 1;
    const answer = await this.options.api.honestly(
      { method: 'POST', path: `/v1/intents/${target}/replace`, body: { qty } },
      this.giveUp,
      this.retried,
    );
    this.judge(target, answer, 'replace');
  }

  /** Cancels one intent, retried honestly; a guard's refusal of a cancel keel owed is a finding. */
  async cancel(intentId: string, wasLive: boolean): Promise<void> {
    this.stats.cancels += 1;
    const answer = await this.options.api.honestly(
      { method: 'POST', path: `/v1/intents/${intentId}/cancel` },
      this.giveUp,
      this.retried,
    );
    this.judge(intentId, answer, 'cancel');
    if (answer.kind === 'answer' && answer.status === 200 && wasLive) {
      const tag = typeof answer.json.tag === 'string' ? answer.json.tag : null;
      if (answer.json.status === 'FAILED' && tag !== null && BLOCKED_TAG.test(tag)) {
        this.findings.push({
          invariant: 'protective-never-blocked',
          detail:
            `cancel of ${intentId} was refused: FAILED ${tag} ${typeof answer.json.reason === 'string' ? answer.json.reason : ''}`.trim(),
        });
      }
    }
  }

  /** Answers to a cancel or replace of an acknowledged intent: a 404 means keel lost it. */
  private judge(intentId: string, answer: ApiAnswer, what: string): void {
    if (answer.kind !== 'answer') return;
    if (answer.status === 404 && this.acknowledged.has(intentId)) {
      this.findings.push({
        invariant: 'acknowledged-survives-crash',
        detail: `${intentId} was acknowledged (${this.acknowledged.get(intentId) ?? '?'}), but a ${what} of it got 404`,
      });
    } else if (answer.status >= 400) {
      this.stats.refused += 1;
    }
  }

  /**
   * Submits one intent under its id as Idempotency-Key, retried honestly; resolves with keel's
   * answer when it acknowledged the intent, or null (refused, or no answer before the drain deadline).
   */
  async submit(intentId: string, input: IntentInput): Promise<Record<string, unknown> | null> {
    this.stats.submitted += 1;
    this.known.set(intentId, { status: 'unknown', type: input.type });
    const answer = await this.options.api.honestly(
      { method: 'POST', path: '/v1/intents', body: input, idempotencyKey: intentId },
      this.giveUp,
      this.retried,
    );
    if (answer.kind !== 'answer') {
      this.stats.unanswered += 1;
      return null;
    }
    if (answer.status === 200 || answer.status === 202) {
      const status = String(answer.json.status);
      this.acknowledged.set(intentId, status);
      const known = this.known.get(intentId);
      if (known) known.status = status;
      return answer.json;
    }
    const code = (answer.json.error as { code?: string } | undefined)?.code ?? `HTTP ${answer.status}`;
    if (code === 'KEEL_ERR_IDEMPOTENCY_CONFLICT') {
      // The same body under the same key, resent: keel must recognise it as the same intent.
      this.findings.push({
        invariant: 'idempotent-retry',
        detail: `${intentId}: a resubmission of the same intent under its Idempotency-Key got 409 (${code})`,
      });
    } else {
      this.stats.refused += 1;
      // A refused body is the driver's mistake, not keel's: shown, but only the first few.
      if (this.stats.refused <= REFUSALS_SHOWN)
        this.options.log(`load: ${intentId} refused: ${code} ${JSON.stringify(answer.json.error ?? {})}`);
    }
    return null;
  }
}

/** Prices on the paper venue's tick (0.1). */
function tick(price: number): number {
  return Number((Math.round(price * 10) / 10).toFixed(1));
}
