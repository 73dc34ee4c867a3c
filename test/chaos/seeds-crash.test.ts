/** `keel chaos --crash` on fixed seeds: faults and process kills, zero violations (see seeds.support.ts). */
import { describe, it } from 'vitest';
import { CHAOS_SCENARIOS, CHAOS_SEEDS, expectCleanChaosRun } from './seeds.support.js';

describe(`keel chaos --crash, ${CHAOS_SCENARIOS} scenarios per seed, faults and kills`, () => {
  it.each(CHAOS_SEEDS)(
    'reports no violation on seed %i',
    async (seed) => {
      await expectCleanChaosRun(seed, true);
    },
    600_000,
  );
});
