/**
 * Model-based tests for the order-intent lifecycle: xstate/graph generates the paths from the
 * machine itself; each path drives a real actor (simulated clock, strict mode) and checks its
 * state and fill accounting at every step; the last test fails if any declared transition was
 * never taken.
 */
import { SimulatedClock, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createCheckedActor } from '../../src/actors/checked-actor.js';
import {
  DUPLICATE_CLIENT_ORDER_ID,
  orderIntentMachine,
  type OrderIntentContext,
  type OrderIntentEvent,
  type OrderIntentInput,
} from '../../src/machines/order-intent.machine.js';
import { TransitionCoverage, canonicalTestModel, forwardEveryEvent } from '../support/model.js';

// Small bounds keep the graph finite while every give-up branch stays reachable.
const input: OrderIntentInput = {
  clientOrderId: 'EN-model-1',
  correlationId: 'model',
  qty: 10,
  limits: {
    maxSubmitAttempts: 2,
    maxCancelAttempts: 2,
    maxReplaceAttempts: 1,
    ackTimeoutMs: 1_000,
    cancelTimeoutMs: 1_000,
  },
};

const events: OrderIntentEvent[] = [
  { type: 'intent.submit', now: 0 },
  { type: 'intent.submit', retry: true, now: 0 },
  { type: 'intent.blocked', stage: 'risk', reason: 'max notional', tag: 'RISK_BLOCKED:max_notional' },
  { type: 'intent.cancel', now: 0 },
  { type: 'intent.replace', newQty: 12 },
  { type: 'intent.replace', newQty: 3 },
  { type: 'venue.order.rejected', reason: 'insufficient margin', code: -2019 },
  { type: 'venue.order.rejected', reason: DUPLICATE_CLIENT_ORDER_ID, code: -4116 },
  { type: 'venue.order.filled', qty: 4, tradeId: 't1' },
  { type: 'venue.order.filled', qty: 6, tradeId: 't2' },
  { type: 'clock.tick', now: 500 },
  { type: 'clock.tick', now: 5_000 },
];

/** Only what guards read, so the graph stays finite. */
function serializeState(snapshot: AnyMachineSnapshot): string {
  const context = snapshot.context as OrderIntentContext;
  return JSON.stringify([
    snapshot.value,
    context.filledQty,
    [...context.tradeIds].sort(),
    context.qtyInForce,
    context.pendingReplaceQty,
    context.submitAttempts,
    context.cancelAttempts,
    context.replaceAttempts,
    context.ackDeadline !== null,
    context.cancelDeadline !== null,
  ]);
}

describe('order-intent model', () => {
  const coverage = new TransitionCoverage(orderIntentMachine);
  const model = canonicalTestModel(orderIntentMachine, {
    events: events as AnyEventObject[],
    serializeState,
    input,
  });
  const paths = model.getShortestPaths();

  it('generates a path for every reachable state', () => {
    expect(paths.length).toBeGreaterThan(100);
  });

  for (const path of paths) {
    it(path.description, async () => {
      // Lenient: generated paths also send events the state refuses; the state checks still apply.
      let refusals = 0;
      const sut = createCheckedActor(orderIntentMachine, {
        mode: 'lenient',
        onAnomaly: () => {
          refusals += 1;
        },
        input,
        clock: new SimulatedClock(),
        inspect: coverage.inspect,
      });
      await path.test({
        states: {
          '*': (expected) => {
            const actual = sut.getSnapshot();
            expect(actual.value).toEqual(expected.value);
            const context = expected.context as OrderIntentContext;
            expect(actual.context.filledQty).toBe(context.filledQty);
            expect(actual.context.qtyInForce).toBe(context.qtyInForce);
            expect(actual.context.overfillQty).toBe(context.overfillQty);
            expect(actual.context.terminalStatus).toBe(context.terminalStatus);
          },
        },
        events: forwardEveryEvent((event) => {
          const before = refusals;
          if (event.type !== 'probe.unhandled') {
            sut.send(event as OrderIntentEvent);
          } else if (sut.getSnapshot().status === 'active') {
            // The probe is an event no state accepts: a running actor must refuse it.
            sut.send(event as OrderIntentEvent);
            expect(refusals).toBe(before + 1);
          } else {
            // DONE is final: it takes nothing more (xstate would only warn).
            expect(sut.getSnapshot().status).toBe('done');
          }
        }),
      });
      sut.stop();
    });
  }

  it('covers every transition of order-intent', () => {
    expect(coverage.uncovered()).toEqual([]);
  });
});
