/**
 * The dashboard in headless Chromium (Debian's, through playwright-core), against a daemon in this
 * process: it loads with no console error, shows an intent submitted over the API appear and its
 * state change live, draws the selected intent's statechart with its current state highlighted,
 * trips and resets the kill switch with its buttons, and leaves a screenshot as a test artifact;
 * it catches up on what it missed while the stream was down, and asks again for a refused token.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon/run.js';
import { testDaemonOptions } from '../support/daemon.js';
import { entryIntent } from '../support/intents.js';

const TOKEN = 'dashboard-test-token';
let browser: Browser;
let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-dashboard-'));
  daemon = await startDaemon(testDaemonOptions(join(dir, 'data'), { secrets: { apiToken: TOKEN } }));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('test over');
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, key?: string) =>
  fetch(`${daemon.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });

describe('the dashboard', () => {
  it('shows intents live, highlights the selected intent\u2019s state, and trips and resets the kill switch', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`);
    });
    // Nothing but the daemon itself is ever asked for.
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (
        !request.url().startsWith(daemon.url) &&
        !request.url().startsWith(daemon.url.replace('http', 'ws'))
      )
        foreign.push(request.url());
    });

    await page.goto(`${daemon.url}/#token=${TOKEN}`);
    await page.waitForSelector('body[data-ready="true"][data-stream="open"]');
    expect(await page.getAttribute('#mode', 'data-mode')).toBe('GREEN');
    expect(page.url()).not.toContain(TOKEN);

    // A resting limit order far from the market: it appears working, then changes when cancelled.
    const price = daemon.keel.paper?.price('BTCUSDT') ?? 50_000;
    const resting = await post(
      '/v1/intents',
      entryIntent({ type: 'limit', price: Math.floor(price * 0.5) }),
      'dash-rest',
    );
    expect(resting.status).toBe(202);
    const row = page.locator('tr[data-intent-id="dash-rest"]');
    await row.waitFor();
    await page.waitForSelector('tr[data-intent-id="dash-rest"][data-intent-state*="working"]');

    await row.click();
    await page.waitForSelector('#statechart[data-intent-id="dash-rest"] svg');
    expect(await page.getAttribute('#statechart', 'data-highlight')).toContain('live.order.working');
    expect(await page.locator('#statechart svg .current').count()).toBeGreaterThan(0);

    const canceled = await post('/v1/intents/dash-rest/cancel', {});
    expect(canceled.status).toBe(200);
    await page.waitForSelector('tr[data-intent-id="dash-rest"][data-intent-status="FAILED"]');
    await page.waitForSelector('#statechart[data-highlight^="closed"]');

    // A market order fills on the paper venue and shows EXECUTED without a reload.
    await post('/v1/intents', entryIntent({ strategy_id: 'dash-2' }), 'dash-fill');
    await page.waitForSelector('tr[data-intent-id="dash-fill"][data-intent-status="EXECUTED"]');
    // The fill moves the position table too, from the stream, without a reload.
    await page.waitForSelector('#positions tr[data-symbol="BTCUSDT"]');

    await page.fill('#kill-reason', 'dashboard drill');
    await page.click('#trip');
    await page.waitForSelector('#kill-state[data-kill-state="tripped"]');
    const tripped = (await (
      await fetch(`${daemon.url}/v1/belief`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      killSwitch: { view: { tripped: boolean }; trip: { reason: string; by: string } };
    };
    expect(tripped.killSwitch).toMatchObject({
      view: { tripped: true },
      trip: { reason: 'dashboard drill', by: 'dashboard' },
    });
    await page.click('#reset');
    await page.waitForSelector('#kill-state[data-kill-state="armed"]');
    expect(daemon.keel.killSwitch.view().view).toEqual({ tripped: false });

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: join('test-results', 'dashboard.png'), fullPage: true });
    if (process.env.KEEL_UPDATE_SCREENSHOT === '1')
      await page.screenshot({ path: join('docs', 'images', 'dashboard.png'), fullPage: false });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('catches up after the stream drops: an intent filled while it was down shows once it reconnects', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${daemon.url}/#token=${TOKEN}`);
    await page.waitForSelector('body[data-ready="true"][data-stream="open"]');

    daemon.hub.close();
    await page.waitForSelector('body[data-stream="closed"]');
    const missed = await post('/v1/intents', entryIntent({ strategy_id: 'dash-missed' }), 'dash-missed');
    expect(missed.status).toBe(202);
    await page.waitForSelector('body[data-stream="open"]', { timeout: 10_000 });
    await page.waitForSelector('tr[data-intent-id="dash-missed"][data-intent-status="EXECUTED"]', {
      timeout: 5_000,
    });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('asks for the token again when the daemon refuses the one in the URL, and opens with the right one typed in', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      // The browser itself reports the refused request; the page adds nothing of its own.
      if (message.type() === 'error' && !message.text().includes('401')) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

    await page.goto(`${daemon.url}/#token=not-the-token`);
    await page.waitForSelector('#login:not([hidden])', { timeout: 5_000 });
    expect(await page.textContent('#login-message')).toContain('refused');
    expect(await page.evaluate('sessionStorage.getItem("keel-token")')).toBeNull();

    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-ready="true"][data-stream="open"]');
    expect(await page.isHidden('#login')).toBe(true);
    expect(await page.getAttribute('#kill-state', 'data-kill-state')).toBe('armed');
    expect(problems).toEqual([]);
    await page.close();
  });
});
