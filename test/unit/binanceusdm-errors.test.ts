import { describe, expect, it } from 'vitest';
import { classifyOrderError } from '../../src/domain/order-error.js';
import { orderErrorPolicySchema } from '../../src/domain/order-error.schema.js';
import { BINANCEUSDM_ERRORS, binanceUsdmRuleFor } from '../../src/domain/venues/binanceusdm.errors.js';

// Every code shared/notes/exchange.md names (§a Binance USDⓈ-M and §b ccxt's mapping).
const CODES_IN_THE_NOTES = [
  -1000, -1001, -1003, -1006, -1007, -1013, -1015, -1021, -1022, -1100, -1106, -1121, -1125, -1130, -2010,
  -2011, -2013, -2014, -2015, -2018, -2019, -2020, -2021, -2022, -2024, -2025, -2027, -2028, -4000, -4002,
  -4004, -4005, -4013, -4014, -4015, -4016, -4023, -4024, -4046, -4050, -4051, -4061, -4087, -4116, -4117,
  -4118, -4120, -4131, -4137, -4139, -4142, -4164, -4400, -4403, -4408, -5021, -5022, -5028,
];

describe('Binance USDⓈ-M error table', () => {
  it('covers every code the exchange notes name', () => {
    const missing = CODES_IN_THE_NOTES.filter((code) => !BINANCEUSDM_ERRORS.has(code));
    expect(missing).toEqual([]);
  });

  it('covers every code of the published 10xx–50xx series keel reads (spot check by series)', () => {
    const series = (from: number, to: number) =>
      [...BINANCEUSDM_ERRORS.keys()].filter((c) => c <= from && c >= to);
    expect(series(-1000, -1099).length).toBeGreaterThanOrEqual(20);
    expect(series(-1100, -1199).length).toBeGreaterThanOrEqual(25);
    expect(series(-2010, -2099).length).toBeGreaterThanOrEqual(18);
    expect(series(-4000, -4999).length).toBeGreaterThanOrEqual(100);
    expect(series(-5000, -5999).length).toBeGreaterThanOrEqual(13);
  });

  it.each([...BINANCEUSDM_ERRORS.entries()])('has a complete row for %i', (code, row) => {
    expect(code).toBeLessThan(0);
    expect(row.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(row.message.length).toBeGreaterThan(0);
    expect(row.reason.length).toBeGreaterThan(0);
    expect(orderErrorPolicySchema.options).toContain(row.policy);
  });

  it('makes every "execution status unknown" code ask for a lookup before a resend', () => {
    for (const [code, row] of BINANCEUSDM_ERRORS) {
      if (!/execution status unknown/i.test(row.message)) continue;
      for (const context of ['create', 'cancel', 'replace'] as const) {
        expect(binanceUsdmRuleFor(code, context)?.policy).toBe('retryable');
        expect(classifyOrderError({ venue: 'binanceusdm', code, context }).lookupFirst).toBe(true);
      }
    }
  });

  it('never calls an unknown order terminal on a cancel or a query', () => {
    for (const code of [-2011, -2013]) {
      expect(classifyOrderError({ venue: 'binanceusdm', code, context: 'cancel' }).lookupFirst).toBe(true);
      expect(classifyOrderError({ venue: 'binanceusdm', code, context: 'query' }).policy).not.toBe('fatal');
    }
  });

  it('gives every rate-limit code a wait', () => {
    for (const code of [-1003, -1008, -1015]) {
      expect(
        classifyOrderError({ venue: 'binanceusdm', code, context: 'create' }).retryAfterMs,
      ).toBeGreaterThan(0);
    }
  });
});
