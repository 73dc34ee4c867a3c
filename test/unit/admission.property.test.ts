import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KILL_TRIGGERS, admit, type IntentLike, type KillSwitchView } from '../../src/domain/admission.js';
import { BELIEF_MODES, DEFAULT_BELIEF_CONTROLLER_CONFIG, knobsForMode } from '../../src/domain/belief.js';

const config = DEFAULT_BELIEF_CONTROLLER_CONFIG;

const killSwitchArbitrary: fc.Arbitrary<KillSwitchView> = fc.oneof(
  fc.constant({ tripped: false as const }),
  fc.constantFrom(...KILL_TRIGGERS).map((trigger) => ({ tripped: true as const, trigger })),
);
const knobsArbitrary = fc.constantFrom(...BELIEF_MODES).map((mode) => knobsForMode(mode, config));
/** Sizing and history fields that would block any entry. */
const entryFieldsArbitrary = fc.record(
  {
    notional: fc.double({ min: 0, max: 1e9, noNaN: true }),
    leverage: fc.double({ min: 0, max: 200, noNaN: true }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    openOrdersForSymbol: fc.integer({ min: 0, max: 100 }),
    secondsSinceLastEntry: fc.integer({ min: 0, max: 10_000 }),
  },
  { requiredKeys: [] },
);

const protectiveArbitrary: fc.Arbitrary<IntentLike> = fc.oneof(
  fc
    .constantFrom('SL' as const, 'TP' as const, 'EXIT' as const)
    .map((kind) => ({ action: 'submit' as const, kind })),
  fc.constant<IntentLike>({ action: 'submit', kind: 'ENTRY', reduce_only: true }),
  fc.constant<IntentLike>({ action: 'replace', close_position: true }),
);

describe('admission', () => {
  it('admits a cancel and a protective exit for any mode and kill-switch state', () => {
    fc.assert(
      fc.property(
        killSwitchArbitrary,
        knobsArbitrary,
        protectiveArbitrary,
        entryFieldsArbitrary,
        (killSwitch, knobs, protective, fields) => {
          expect(admit({ action: 'cancel', ...fields }, { killSwitch, knobs }).admitted).toBe(true);
          expect(admit({ ...protective, ...fields }, { killSwitch, knobs })).toEqual({
            admitted: true,
            basis: 'protective_exit',
          });
        },
      ),
    );
  });

  it('denies every entry while the kill switch is tripped, tagged with the trigger', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KILL_TRIGGERS),
        knobsArbitrary,
        entryFieldsArbitrary,
        (trigger, knobs, fields) => {
          const decision = admit(
            { action: 'submit', kind: 'ENTRY', ...fields },
            { killSwitch: { tripped: true, trigger }, knobs },
          );
          expect(decision).toMatchObject({ admitted: false, tag: `KILL_SWITCH:${trigger}` });
        },
      ),
    );
  });

  it('denies entries in RED with GUARD_BLOCKED:entries_disabled', () => {
    const decision = admit(
      { action: 'submit', kind: 'ENTRY' },
      { killSwitch: { tripped: false }, knobs: knobsForMode('RED', config) },
    );
    expect(decision).toMatchObject({ admitted: false, tag: 'GUARD_BLOCKED:entries_disabled' });
  });

  it('names the knob that blocks an entry', () => {
    const knobs = knobsForMode('YELLOW', config);
    const killSwitch = { tripped: false } as const;
    const entry = (fields: Partial<IntentLike>) =>
      admit({ action: 'submit', kind: 'ENTRY', ...fields }, { killSwitch, knobs });
    expect(entry({ notional: knobs.max_notional + 1 })).toMatchObject({ tag: 'GUARD_BLOCKED:max_notional' });
    expect(entry({ leverage: knobs.max_leverage + 1 })).toMatchObject({ tag: 'GUARD_BLOCKED:max_leverage' });
    expect(entry({ confidence: knobs.min_entry_conf - 0.01 })).toMatchObject({
      tag: 'GUARD_BLOCKED:min_entry_conf',
    });
    expect(entry({ secondsSinceLastEntry: knobs.entry_cooldown_seconds - 1 })).toMatchObject({
      tag: 'GUARD_BLOCKED:entry_cooldown',
    });
    expect(entry({ openOrdersForSymbol: knobs.max_open_orders_per_symbol })).toMatchObject({
      tag: 'GUARD_BLOCKED:max_open_orders_per_symbol',
    });
    expect(
      entry({
        notional: knobs.max_notional,
        leverage: knobs.max_leverage,
        confidence: knobs.min_entry_conf,
        secondsSinceLastEntry: knobs.entry_cooldown_seconds,
        openOrdersForSymbol: knobs.max_open_orders_per_symbol - 1,
      }),
    ).toEqual({ admitted: true, basis: 'within_guard_knobs' });
  });

  it('treats an intent without a kind as an entry', () => {
    const decision = admit(
      { action: 'submit' },
      { killSwitch: { tripped: true, trigger: 'operator' }, knobs: knobsForMode('GREEN', config) },
    );
    expect(decision).toMatchObject({ admitted: false, tag: 'KILL_SWITCH:operator' });
  });
});
