/**
 * DESIGN.md's layering is enforced by lint, not only documented: these tests lint code that
 * breaks each rule, as if it lived in the layer, and fail if ESLint lets it through.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function ruleIdsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

describe('layering lint', () => {
  it.each([
    ['src/domain/errors.ts', "import { createActor } from 'xstate';\nexport const x = createActor;\n"],
    ['src/domain/errors.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    [
      'src/domain/errors.ts',
      "import { orderIntentMachine } from '../machines/order-intent.machine.js';\nexport const x = orderIntentMachine;\n",
    ],
    [
      'src/machines/strict.ts',
      "import { createCheckedActor } from '../actors/checked-actor.js';\nexport const x = createCheckedActor;\n",
    ],
    ['src/machines/strict.ts', "import pino from 'pino';\nexport const x = pino;\n"],
    [
      'src/actors/checked-actor.ts',
      "import { KEEL_BIN } from '../cli/main.js';\nexport const x = KEEL_BIN;\n",
    ],
  ])('refuses a forbidden import in %s', async (filePath, code) => {
    expect(await ruleIdsFor(filePath, code)).toContain('no-restricted-imports');
  });

  it.each([
    ['src/domain/errors.ts', 'export const now = Date.now();\n', 'no-restricted-properties'],
    ['src/machines/strict.ts', 'export const roll = Math.random();\n', 'no-restricted-properties'],
    ['src/machines/strict.ts', 'export const t = setTimeout(() => undefined, 1);\n', 'no-restricted-globals'],
    ['src/domain/errors.ts', 'export const d = new Date();\n', 'no-restricted-syntax'],
  ])('refuses wall-clock time and randomness in %s', async (filePath, code, rule) => {
    expect(await ruleIdsFor(filePath, code)).toContain(rule);
  });

  it('allows the same code in a composition root', async () => {
    expect(await ruleIdsFor('src/cli/main.ts', 'export const now = Date.now();\n')).toEqual([]);
  });
});
