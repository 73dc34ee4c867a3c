import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SYMBOL, market, order } from './paper-support.js';

type Step =
  | { kind: 'market'; side: 'buy' | 'sell'; qty: number; reduceOnly: boolean }
  | { kind: 'limit'; side: 'buy' | 'sell'; qty: number; offset: number; tif: 'GTC' | 'IOC' | 'FOK' | 'GTX' }
  | { kind: 'cancel'; index: number }
  | { kind: 'wait'; ms: number };

const side = fc.constantFrom('buy' as const, 'sell' as const);
const qty = fc.integer({ min: 1, max: 300 }).map((units) => units / 100);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('market' as const), side, qty, reduceOnly: fc.boolean() }),
  fc.record({
    kind: fc.constant('limit' as const),
    side,
    qty,
    offset: fc.integer({ min: -20, max: 20 }),
    tif: fc.constantFrom('GTC' as const, 'IOC' as const, 'FOK' as const, 'GTX' as const),
  }),
  fc.record({ kind: fc.constant('cancel' as const), index: fc.nat(30) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
);

describe('paper venue invariants', () => {
  it('keeps the position equal to the signed sum of fills, never overfills, and logs every fill after its acceptance', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(step, { maxLength: 30 }), async (seed, steps) => {
        const { venue, advance } = market({
          seed,
          symbols: { [SYMBOL]: { start: 100, volatility: 0.01 } },
          liquidityPerStep: 1,
          faults: { duplicateFill: { probability: 0.2 }, fillAfterCancel: { probability: 0.2 } },
        });
        const ids: string[] = [];
        for (const [index, each] of steps.entries()) {
          const clientOrderId = `P-${index}`;
          if (each.kind === 'wait') advance(each.ms);
          else if (each.kind === 'cancel') {
            const target = ids[each.index % Math.max(1, ids.length)];
            if (target) await venue.cancel(SYMBOL, target);
          } else {
            const last = venue.price(SYMBOL) ?? 100;
            ids.push(clientOrderId);
            await venue.submit(
              each.kind === 'market'
                ? order({ clientOrderId, side: each.side, qty: each.qty, reduceOnly: each.reduceOnly })
                : order({
                    clientOrderId,
                    side: each.side,
                    qty: each.qty,
                    type: 'limit',
                    price: Math.max(0.1, Math.round(last * 10 + each.offset) / 10),
                    timeInForce: each.tif,
                  }),
            );
          }
        }
        const truth = venue.groundTruth();
        const signed = truth.fills.reduce(
          (sum, fill) => sum + (fill.side === 'buy' ? fill.qty : -fill.qty),
          0,
        );
        const position = truth.positions.find((each) => each.symbol === SYMBOL)?.qty ?? 0;
        expect(position).toBeCloseTo(signed, 8);
        for (const placed of truth.orders) {
          expect(placed.filledQty).toBeLessThanOrEqual(placed.qty + 1e-9);
          const filled = truth.fills
            .filter((fill) => fill.venueOrderId === placed.venueOrderId)
            .reduce((sum, fill) => sum + fill.qty, 0);
          expect(filled).toBeCloseTo(placed.filledQty, 8);
        }
        const accepted = new Set<string>();
        for (const entry of truth.log) {
          if (entry.kind === 'order.accepted') accepted.add(entry.venueOrderId);
          if (entry.kind === 'order.filled') expect(accepted.has(entry.fill.venueOrderId)).toBe(true);
        }
        expect(new Set(truth.fills.map((fill) => fill.tradeId)).size).toBe(truth.fills.length);
      }),
      { numRuns: 150, seed: 20_261_122 },
    );
  });
});
