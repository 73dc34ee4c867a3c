import { describe, expect, it } from 'vitest';
import { openPaperVenue } from '../../../src/adapters/venue/paper/paper.venue.js';
import { BadInputError } from '../../../src/domain/errors.js';
import { ManualClock } from '../../support/manual-clock.js';
import { SYMBOL, market } from './paper-support.js';

describe('paper venue options', () => {
  it('refuses bad options with KEEL_ERR_BAD_CONFIG naming every bad field', () => {
    const open = () =>
      openPaperVenue({
        seed: 1.5,
        clock: new ManualClock(0),
        symbols: { [SYMBOL]: { start: -1, volatility: 0 } },
        faults: { rateLimit: { probability: 2 } },
      });
    expect(open).toThrow(BadInputError);
    try {
      open();
    } catch (error) {
      expect((error as BadInputError).code).toBe('KEEL_ERR_BAD_CONFIG');
      expect((error as BadInputError).issues.map((issue) => issue.path)).toEqual([
        'seed',
        `symbols.${SYMBOL}.start`,
        'faults.rateLimit.probability',
      ]);
    }
  });

  it('steps itself on the clock timer when auto-stepping, and stops when cancelled', () => {
    const { venue, clock } = market({ symbols: { [SYMBOL]: { start: 100, volatility: 0.01 } } });
    const stepping = venue.autoStep();
    clock.advance(3000);
    const moved = venue.price(SYMBOL);
    expect(moved).not.toBe(100);
    stepping.cancel();
    clock.advance(3000);
    expect(venue.price(SYMBOL)).toBe(moved);
  });
});
