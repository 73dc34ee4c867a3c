/** `keel chaos` on fixed seeds, faults only: zero violations (see seeds.support.ts). */
import { describe, it } from 'vitest';
import { CHAOS_SCENARIOS, CHAOS_SEEDS, expectCleanChaosRun } from './seeds.support.js';

describe(`keel chaos, ${CHAOS_SCENARIOS} scenarios per seed, faults without crashes`, () => {
  it.each(CHAOS_SEEDS)(
    'reports no violation on seed %i',
    async (seed) => {
      await expectCleanChaosRun(seed, false);
    },
    600_000,
  );
});
