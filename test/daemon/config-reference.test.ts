/**
 * The README's configuration reference is the schema's: regenerating it changes nothing. When
 * this fails, run `npm run docs:config`.
 */
import { readFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { withReference } from '../../scripts/config-reference.js';

describe('the README configuration reference', () => {
  it('matches what the zod schema generates', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const options = (await resolveConfig('README.md')) ?? {};
    const regenerated = await format(withReference(readme), { ...options, filepath: 'README.md' });
    expect(readme).toBe(regenerated);
  });
});
