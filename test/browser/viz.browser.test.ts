import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalMachines } from '../../src/machines/index.js';
import { renderHtmlPage } from '../../src/viz/html.js';
import { fixtureMachine } from '../viz/fixture-machine.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const screenshot = path.join(repoRoot, 'test-results/viz.png');
// The canonical machines, plus the fixture so that every construct the converter draws is rendered too.
const machines = { ...canonicalMachines, 'viz-fixture': fixtureMachine };

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keel-viz-browser-'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the keel viz HTML page in headless Chromium', () => {
  it('renders every machine to a non-empty SVG, offline, with no console error', async () => {
    const file = path.join(dir, 'keel-machines.html');
    await writeFile(file, renderHtmlPage(machines));

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!/^(file|data):/.test(request.url())) problems.push(`remote request: ${request.url()}`);
    });
    page.on('requestfailed', (request) => problems.push(`failed request: ${request.url()}`));

    await page.goto(pathToFileURL(file).href);
    // A string predicate: it runs in the page, and this project's type library has no DOM.
    await page.waitForFunction("document.body.dataset.keelViz !== 'pending'", undefined, { timeout: 45_000 });

    const diagrams = await page.$$eval('section.machine', (sections) =>
      sections.map((section) => ({
        name: section.getAttribute('data-machine'),
        status: section.querySelector('.diagram')?.getAttribute('data-status'),
        stateNodes: section.querySelectorAll('.diagram svg g.node').length,
        text: section.querySelector('.diagram svg')?.textContent ?? '',
      })),
    );
    await mkdir(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });

    expect(problems).toEqual([]);
    expect(await page.getAttribute('body', 'data-keel-viz')).toBe('rendered');
    expect(diagrams.map((diagram) => diagram.name)).toEqual(Object.keys(machines));
    for (const diagram of diagrams) {
      expect(diagram.status, diagram.name ?? '').toBe('rendered');
      expect(diagram.stateNodes, diagram.name ?? '').toBeGreaterThan(0);
    }
    const fixture = diagrams.find((diagram) => diagram.name === 'viz-fixture');
    for (const label of [
      'awaiting-ack',
      'cancel - pending',
      'H*',
      '(any state)',
      'tags in-flight',
      'kill.trip',
    ])
      expect(fixture?.text).toContain(label);
  }, 90_000);
});
