import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import { toMachineEvent } from '../../src/actors/order-simulation.js';
import {
  REFUSED,
  nextOrderPhase,
  orderStatusTableMarkdown,
  type OrderEventName,
  type OrderFacts,
} from '../../src/domain/order-status.js';
import type { SimulationEvent } from '../../src/domain/simulation-script.schema.js';
import { DUPLICATE_CLIENT_ORDER_ID, orderIntentMachine } from '../../src/machines/order-intent.machine.js';
import { orderPhase } from '../../src/machines/order-intent.status.js';

const ORDER_QTY = 10;
const tradeId = fc.constantFrom('t1', 't2', 't3', 't4', 't5', undefined);
const qty = fc.integer({ min: 1, max: 7 });

const simulationEvent: fc.Arbitrary<SimulationEvent> = fc.oneof(
  fc.constant({ type: 'submit' as const }),
  fc.constant({ type: 'submit' as const, retry: true }),
  fc.constant({ type: 'ack' as const }),
  fc.constantFrom(
    { type: 'reject' as const },
    { type: 'reject' as const, reason: DUPLICATE_CLIENT_ORDER_ID },
  ),
  fc.record(
    { type: fc.constant('partial_fill' as const), qty, trade_id: tradeId },
    { requiredKeys: ['type', 'qty'] },
  ),
  fc.record(
    { type: fc.constant('fill' as const), qty, trade_id: tradeId },
    { requiredKeys: ['type', 'qty'] },
  ),
  fc.constantFrom(
    ...(
      [
        'cancel_request',
        'cancel_ack',
        'cancel_reject',
        'replace_ack',
        'replace_reject',
        'expire',
        'unsolicited_cancel',
        'unknown_order',
        'timeout',
        'triggered',
      ] as const
    ).map((type) => ({ type })),
  ),
  fc.record({ type: fc.constant('replace_request' as const), new_qty: fc.integer({ min: 1, max: 15 }) }),
);

/** Scripts usually start with a submit, so most of the state space is live orders. */
const script = fc
  .tuple(fc.boolean(), fc.array(simulationEvent, { maxLength: 30 }))
  .map(([submitFirst, events]) => (submitFirst ? [{ type: 'submit' as const }, ...events] : events));

function tableEvent(event: SimulationEvent): OrderEventName {
  if (event.type === 'submit') return event.retry === true ? 'resend' : 'submit';
  if (event.type === 'partial_fill') return 'fill';
  return event.type;
}

interface Step {
  event: SimulationEvent;
  phaseBefore: string;
  phaseAfter: string;
  refused: boolean;
  expected: string;
  filledQty: number;
  qtyInForce: number;
  overfillQty: number;
}

function replay(events: SimulationEvent[]): Step[] {
  let refused = false;
  const actor = createCheckedActor(orderIntentMachine, {
    mode: 'lenient',
    input: { clientOrderId: 'P-1', correlationId: 'property', qty: ORDER_QTY },
    onAnomaly: () => {
      refused = true;
    },
  });
  const steps: Step[] = [];
  for (const event of events) {
    const before = actor.getSnapshot();
    const { context } = before;
    const machineEvent = toMachineEvent(event);
    const facts: OrderFacts = {
      pending: context.pendingRequest,
      replaceOutstanding: context.pendingReplaceQty !== null,
      fill:
        machineEvent.type !== 'venue.order.filled'
          ? 'partial'
          : machineEvent.tradeId !== undefined && context.tradeIds.includes(machineEvent.tradeId)
            ? 'duplicate'
            : context.filledQty + machineEvent.qty >= context.qtyInForce
              ? 'completes'
              : 'partial',
      somethingFilled: context.filledQty > 0,
      rejectIsDuplicateId:
        machineEvent.type === 'venue.order.rejected' && machineEvent.reason === DUPLICATE_CLIENT_ORDER_ID,
      cancelSentBefore: context.cancelAttempts > 0,
      replaceRequestedBefore: context.replaced || context.replaceAttempts > 0,
      replaceLeavesNothing:
        context.pendingReplaceQty !== null && context.filledQty >= context.pendingReplaceQty,
    };
    const phaseBefore = orderPhase(before);
    const expected =
      phaseBefore === 'FAILED' || phaseBefore === 'DONE'
        ? REFUSED
        : nextOrderPhase(phaseBefore, tableEvent(event), facts);
    refused = false;
    actor.send(machineEvent);
    const after = actor.getSnapshot();
    steps.push({
      event,
      phaseBefore,
      phaseAfter: orderPhase(after),
      refused,
      expected,
      filledQty: after.context.filledQty,
      qtyInForce: after.context.qtyInForce,
      overfillQty: after.context.overfillQty,
    });
  }
  actor.stop();
  return steps;
}

describe('order-status table and the order-intent machine', () => {
  it('agree on every step of random event sequences', () => {
    fc.assert(
      fc.property(script, (events) => {
        for (const step of replay(events)) {
          const actual = step.refused ? REFUSED : step.phaseAfter;
          if (actual !== step.expected) {
            throw new Error(
              `${step.event.type} in ${step.phaseBefore}: table says ${step.expected}, machine did ${actual}`,
            );
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('never loses a fill and applies a duplicate trade id once', () => {
    fc.assert(
      fc.property(script, (events) => {
        const seen = new Set<string>();
        let expectedFilled = 0;
        for (const step of replay(events)) {
          const { event } = step;
          if ((event.type === 'fill' || event.type === 'partial_fill') && !step.refused) {
            const id = event.trade_id;
            if (id === undefined || !seen.has(String(id))) expectedFilled += event.qty;
            if (id !== undefined) seen.add(String(id));
          }
          expect(step.filledQty).toBe(expectedFilled);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('never lets the filled quantity exceed the quantity in force without an overfill flag', () => {
    fc.assert(
      fc.property(script, (events) => {
        for (const step of replay(events)) {
          expect(step.overfillQty).toBe(Math.max(0, step.filledQty - step.qtyInForce));
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps FILLED absorbing whatever arrives after it', () => {
    fc.assert(
      fc.property(script, (events) => {
        let filled = false;
        for (const step of replay(events)) {
          if (filled) expect(step.phaseAfter).toBe('FILLED');
          if (step.phaseAfter === 'FILLED') filled = true;
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('never lets a timeout or an unknown-order answer change the phase', () => {
    fc.assert(
      fc.property(script, (events) => {
        for (const step of replay(events)) {
          if (step.event.type === 'timeout' || step.event.type === 'unknown_order') {
            if (!step.refused) expect(step.phaseAfter).toBe(step.phaseBefore);
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('renders the table as Markdown with a reason on surprising rows', () => {
    const markdown = orderStatusTableMarkdown();
    expect(markdown).toContain(
      '| CANCELED | fill | completes | FILLED | late fill: real-world race; FILLED_AFTER_CANCEL |',
    );
    expect(markdown.split('\n').length).toBeGreaterThan(30);
  });
});
