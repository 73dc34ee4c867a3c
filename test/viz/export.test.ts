import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { BadInputError } from '../../src/domain/errors.js';
import {
  GENERATED_NOTICE,
  HTML_FILE_NAME,
  applyVizPlan,
  parseVizOptions,
  planViz,
  renderMachineDoc,
} from '../../src/viz/export.js';
import { renderHtmlPage } from '../../src/viz/html.js';
import { toMermaid } from '../../src/viz/mermaid.js';
import { fixtureMachine } from './fixture-machine.js';

const plain = setup({}).createMachine({
  id: 'plain',
  initial: 'a',
  states: { a: { on: { go: 'b' } }, b: {} },
});
const registry = { 'viz-fixture': fixtureMachine, plain };

const temporaryDirs: string[] = [];
async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keel-viz-'));
  temporaryDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('parseVizOptions', () => {
  it('defaults to Mermaid for every machine, on stdout', () => {
    expect(parseVizOptions({}, registry)).toEqual({ format: 'mermaid', machine: [] });
  });

  it('names an unknown machine and lists the valid ones', () => {
    const attempt = () => parseVizOptions({ machine: ['plain', 'nope'] }, registry);
    expect(attempt).toThrow(BadInputError);
    expect(attempt).toThrow('machine.1: unknown machine "nope"; valid machines: viz-fixture, plain');
  });

  it('says so when no machine is registered at all', () => {
    expect(() => parseVizOptions({ machine: ['plain'] }, {})).toThrow(
      'valid machines: (none are registered)',
    );
  });

  it('names the format field when the format is not mermaid or html', () => {
    expect(() => parseVizOptions({ format: 'pdf' }, registry)).toThrow(/format: /);
  });

  it('names an option it does not know', () => {
    expect(() => parseVizOptions({ colour: 'red' }, registry)).toThrow(/colour/);
  });
});

describe('renderMachineDoc', () => {
  it('carries the generated notice, the description, the counts and the Mermaid fence', () => {
    const doc = renderMachineDoc('viz-fixture', fixtureMachine);
    expect(doc.startsWith('# viz-fixture\n\n')).toBe(true);
    expect(doc).toContain(GENERATED_NOTICE);
    expect(doc).toContain('Every construct the diagram generator draws.');
    expect(doc).toContain('17 states, 16 transitions.');
    expect(doc).toContain(`\`\`\`mermaid\n${toMermaid(fixtureMachine)}\`\`\`\n`);
  });

  it('leaves out the description line for a machine without one', () => {
    expect(renderMachineDoc('plain', plain)).toContain(`${GENERATED_NOTICE}\n\n2 states, 1 transitions.`);
  });
});

describe('planViz and applyVizPlan', () => {
  it('prints every diagram to stdout, each after its name, when there is no --out', () => {
    const plan = planViz({ format: 'mermaid', machine: [] }, registry, '/nowhere');
    expect(plan.files).toEqual([]);
    expect(plan.stdout).toBe(
      `%% machine viz-fixture\n${toMermaid(fixtureMachine)}\n%% machine plain\n${toMermaid(plain)}`,
    );
  });

  it('writes one markdown file per chosen machine into --out', async () => {
    const dir = await temporaryDir();
    const result = await applyVizPlan(
      planViz({ format: 'mermaid', machine: ['plain'], out: 'docs' }, registry, dir),
    );
    expect(result.written).toEqual([path.join(dir, 'docs', 'plain.md')]);
    expect(await readFile(path.join(dir, 'docs', 'plain.md'), 'utf8')).toBe(renderMachineDoc('plain', plain));
    expect(await readdir(path.join(dir, 'docs'))).toEqual(['plain.md']);
  });

  it('removes generated docs of machines no longer registered, and nothing else', async () => {
    const dir = await temporaryDir();
    await writeFile(path.join(dir, 'retired.md'), `# retired\n\n${GENERATED_NOTICE}\n`);
    await writeFile(path.join(dir, 'README.md'), '# hand-written, keep me\n');
    const result = await applyVizPlan(planViz({ format: 'mermaid', machine: [], out: dir }, registry, '/'));
    expect(result.removed).toEqual([path.join(dir, 'retired.md')]);
    expect((await readdir(dir)).sort()).toEqual(['README.md', 'plain.md', 'viz-fixture.md']);
  });

  it('prunes nothing when only some machines were asked for', async () => {
    const dir = await temporaryDir();
    await writeFile(path.join(dir, 'retired.md'), `# retired\n\n${GENERATED_NOTICE}\n`);
    const result = await applyVizPlan(
      planViz({ format: 'mermaid', machine: ['plain'], out: dir }, registry, '/'),
    );
    expect(result.removed).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['plain.md', 'retired.md']);
  });

  it(`writes the HTML page as ${HTML_FILE_NAME} in the current directory when there is no --out`, () => {
    const plan = planViz({ format: 'html', machine: [] }, registry, '/work/here');
    expect(plan.files.map((file) => file.path)).toEqual([path.join('/work/here', HTML_FILE_NAME)]);
    expect(plan.files[0]?.content).toContain('data-machine="viz-fixture"');
  });
});

describe('renderHtmlPage', () => {
  it('inlines the renderer and every diagram, so the same machines give the same page', () => {
    const page = renderHtmlPage(registry);
    expect(renderHtmlPage(registry)).toBe(page);
    expect(page).toContain('Content-Security-Policy" content="default-src \'none\'');
    expect(page).not.toMatch(/<script\b[^>]*\bsrc=/i);
    expect(page).toContain(
      '<td><a href="#machine-viz-fixture">viz-fixture</a></td><td class="number">17</td>',
    );
    // the sources travel as JSON in the page; `<` is escaped there so no text can close the script early
    const json = /<script type="application\/json" id="keel-diagrams">(.*?)<\/script>/s.exec(page)?.[1] ?? '';
    expect(JSON.parse(json)).toEqual([
      { name: 'viz-fixture', source: toMermaid(fixtureMachine) },
      { name: 'plain', source: toMermaid(plain) },
    ]);
  });

  it('says so when there is no machine to draw', () => {
    expect(renderHtmlPage({})).toContain('No machines are registered yet.');
  });
});
