import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { canonicalMachines } from '../../src/machines/index.js';
import { HTML_FILE_NAME, renderMachineDoc } from '../../src/viz/export.js';
import { toMermaid } from '../../src/viz/mermaid.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const cli = path.join(repoRoot, 'dist/cli/main.js');
const names = Object.keys(canonicalMachines);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function keel(args: string[], cwd = repoRoot): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const temporaryDirs: string[] = [];
async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'keel-viz-cli-'));
  temporaryDirs.push(dir);
  return dir;
}

beforeAll(() => {
  // `npm test` builds before vitest; a bare `vitest run` on a fresh clone has no dist/ yet.
  if (!existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'ignore' });
});
afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('keel viz', () => {
  it('has at least one canonical machine to draw', () => {
    expect(names.length).toBeGreaterThan(0);
  });

  it('writes one generated markdown doc per canonical machine into --out', async () => {
    const out = path.join(await temporaryDir(), 'machines');
    const run = await keel(['viz', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(names.map((name) => `${name}.md`).sort());
    for (const [name, machine] of Object.entries(canonicalMachines))
      expect(await readFile(path.join(out, `${name}.md`), 'utf8')).toBe(renderMachineDoc(name, machine));
  });

  it('prints Mermaid to stdout when there is no --out, only for the machine asked for', async () => {
    const [first] = Object.entries(canonicalMachines);
    if (first === undefined) throw new Error('no canonical machine registered');
    const [name, machine] = first;
    const run = await keel(['viz', '--machine', name]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`%% machine ${name}\n${toMermaid(machine)}`);
  });

  it(`writes one self-contained ${HTML_FILE_NAME} into --out for --format html`, async () => {
    const out = await temporaryDir();
    const run = await keel(['viz', '--format', 'html', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(out)).toEqual([HTML_FILE_NAME]);
    const page = await readFile(path.join(out, HTML_FILE_NAME), 'utf8');
    for (const name of names) expect(page).toContain(`data-machine="${name}"`);
    // Scripts are inline (no src); outside them, the only links are in-page anchors.
    expect(page).not.toMatch(/<script\b[^>]*\bsrc=/i);
    const markup = page.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
    expect(markup.match(/\b(src|href)="(?!#)[^"]*"/gi) ?? []).toEqual([]);
  });

  it(`writes ${HTML_FILE_NAME} into the current directory when html has no --out`, async () => {
    const cwd = await temporaryDir();
    const run = await keel(['viz', '--format', 'html'], cwd);
    expect(run.code, run.stderr).toBe(0);
    expect(await readdir(cwd)).toEqual([HTML_FILE_NAME]);
  });

  it('exits 2 on an unknown --machine, naming every valid machine, and writes nothing', async () => {
    const out = path.join(await temporaryDir(), 'machines');
    const run = await keel(['viz', '--machine', 'no-such-machine', '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('machine.0: unknown machine "no-such-machine"');
    for (const name of names) expect(run.stderr).toContain(name);
    expect(run.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 on an unknown --format, naming the field, and writes nothing', async () => {
    const cwd = await temporaryDir();
    const run = await keel(['viz', '--format', 'pdf'], cwd);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/format: .*mermaid.*html/);
    expect(await readdir(cwd)).toEqual([]);
  });
});
