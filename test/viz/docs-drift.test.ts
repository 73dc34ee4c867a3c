import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalMachines } from '../../src/machines/index.js';
import { renderMachineDoc } from '../../src/viz/export.js';

const docsDir = path.resolve(import.meta.dirname, '../../docs/machines');
const fix = 'run `npm run viz` and commit docs/machines';

describe('docs/machines', () => {
  it('holds, for every canonical machine, exactly the diagram the generator draws now', () => {
    const drifted = Object.entries(canonicalMachines)
      .filter(([name, machine]) => {
        const file = path.join(docsDir, `${name}.md`);
        return !existsSync(file) || readFileSync(file, 'utf8') !== renderMachineDoc(name, machine);
      })
      .map(([name]) => `${name}.md`);
    expect(drifted, `docs/machines is out of date for ${drifted.join(', ')}: ${fix}`).toEqual([]);
  });

  it('holds no doc for a machine that is no longer registered', () => {
    const files = existsSync(docsDir) ? readdirSync(docsDir).filter((file) => file.endsWith('.md')) : [];
    const stale = files.filter((file) => !Object.hasOwn(canonicalMachines, file.slice(0, -'.md'.length)));
    expect(
      stale,
      `docs/machines has docs for machines that no longer exist (${stale.join(', ')}): ${fix}`,
    ).toEqual([]);
  });
});
