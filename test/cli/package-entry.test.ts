/**
 * The built package is what users install: its entry must load in plain Node (the production
 * xstate build, not vitest's development one), export the public API, and ship type
 * declarations; its bin must be executable.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  bin: { keel: string };
  exports: { '.': { import: string; types: string } };
};

describe('the built package', () => {
  it('declares an entry and types that exist after the build', () => {
    expect(existsSync(new URL(pkg.exports['.'].import, root))).toBe(true);
    expect(existsSync(new URL(pkg.exports['.'].types, root))).toBe(true);
  });

  it('has an executable keel bin', () => {
    expect(() => accessSync(new URL(pkg.bin.keel, root), constants.X_OK)).not.toThrow();
  });

  it('loads in plain Node and runs a lifecycle with the production xstate build', async () => {
    const script = `
      const keel = await import(${JSON.stringify(new URL(pkg.exports['.'].import, root).href)});
      const outcome = keel.simulateOrder({ order: { qty: 2 }, events: [
        { type: 'submit' }, { type: 'ack' }, { type: 'fill', qty: 2, trade_id: 'a' } ] });
      const verdict = keel.classifyOrderError({ venue: 'binanceusdm', httpStatus: 503,
        message: 'Unknown error, please check your request or try again later.', context: 'create' });
      console.log(JSON.stringify({ status: outcome.status, policy: verdict.policy, lookupFirst: verdict.lookupFirst,
        machines: Object.keys(keel.canonicalMachines).sort() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const result = JSON.parse(stdout) as {
      status: string;
      policy: string;
      lookupFirst: boolean;
      machines: string[];
    };
    expect(result).toMatchObject({ status: 'FILLED', policy: 'retryable', lookupFirst: true });
    expect(result.machines).toContain('order-intent');
  });
});
