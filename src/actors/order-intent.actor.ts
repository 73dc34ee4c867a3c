/**
 * Runs one order intent: the canonical machine as a checked root actor, its venue commands
 * executed by a router, and the router's reports sent back as the machine's events.
 * Invariants: every command the machine emits reaches the router exactly once; a resend the
 * machine asks for is preceded by a lookup; a report the machine refuses (strict mode) or a
 * router failure reaches `onError`, never an unhandled rejection.
 */
import { createCheckedActor, type CheckedActor, type LifecycleMode } from './checked-actor.js';
import { createRouter, isRouterReport, toIntentEvent, type Router, type RouterEvent } from './router.js';
import type { RetryPolicy } from '../domain/retry-policy.js';
import { orderIntentMachine, type OrderIntentInput } from '../machines/order-intent.machine.js';
import type { ClockPort } from '../ports/clock.port.js';
import type { SubmitOrder, VenuePort } from '../ports/venue.port.js';

export interface OrderIntentRunOptions {
  /** The order as sent; its clientOrderId names the intent. */
  order: SubmitOrder;
  correlationId: string;
  venue: VenuePort;
  clock: ClockPort;
  random: () => number;
  mode: LifecycleMode;
  policy?: Partial<RetryPolicy>;
  limits?: OrderIntentInput['limits'];
  /** Retry and give-up telemetry, for the journal. */
  onTelemetry?: (event: Exclude<RouterEvent, { type: `venue.${string}` }>) => void;
  onError: (error: unknown) => void;
}

export interface OrderIntentRun {
  readonly actor: CheckedActor<typeof orderIntentMachine>;
  readonly router: Router;
  /** Settles when every venue call started so far has finished. */
  idle(): Promise<void>;
  stop(): void;
}

/**
 * Starts an order intent bound to a venue through a router.
 *
 * @example
 * const run = runOrderIntent({ order, correlationId: 'c-1', venue, clock, random: Math.random,
 *   mode: 'lenient', onError: logger.error });
 * run.actor.send({ type: 'intent.submit', now: clock.now() });
 */
export function runOrderIntent(options: OrderIntentRunOptions): OrderIntentRun {
  const { order } = options;
  const input: OrderIntentInput = {
    clientOrderId: order.clientOrderId,
    correlationId: options.correlationId,
    qty: order.qty ?? 0,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  const actor = createCheckedActor(orderIntentMachine, {
    mode: options.mode,
    input,
    onError: options.onError,
  });
  const router = createRouter({
    venue: options.venue,
    clock: options.clock,
    random: options.random,
    correlationId: options.correlationId,
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    onEvent: (event) => {
      if (isRouterReport(event)) actor.send(toIntentEvent(event));
      else options.onTelemetry?.(event);
    },
  });

  const running = new Set<Promise<unknown>>();
  function track(work: () => Promise<unknown>): void {
    const promise = work().catch(options.onError);
    running.add(promise);
    void promise.finally(() => running.delete(promise));
  }

  const subscriptions = [
    actor.actor.on('order.submit.requested', ({ attempt }) =>
      track(async () => {
        // The machine resends only after an ambiguous answer: what the venue holds comes first.
        if (attempt > 1 && (await router.lookup(order.symbol, order.clientOrderId)).kind !== 'not_found')
          return;
        await router.submit(order);
      }),
    ),
    actor.actor.on('order.lookup.requested', () =>
      track(() => router.lookup(order.symbol, order.clientOrderId)),
    ),
    actor.actor.on('order.cancel.requested', () =>
      track(() => router.cancel(order.symbol, order.clientOrderId)),
    ),
    actor.actor.on('order.replace.requested', ({ newQty }) =>
      track(() =>
        router.replace(
          // No replacement order: a new order would need a new clientOrderId, hence a new intent;
          // without amend the router refuses and the machine restores the order it had.
          {
            clientOrderId: order.clientOrderId,
            symbol: order.symbol,
            qty: newQty,
            ...(order.price === undefined ? {} : { price: order.price }),
          },
        ),
      ),
    ),
  ];

  return {
    actor,
    router,
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      router.close();
      actor.stop();
    },
  };
}
