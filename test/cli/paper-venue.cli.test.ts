/**
 * `keel paper-venue` as a user runs it: bad flags are refused with every bad field named and
 * nothing served (exit 2); a good start prints its URLs as one JSON line, answers a Binance
 * client's signed requests, refuses a forged signature with Binance's -1022, injects the faults
 * its flags name, and stops with exit 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFaultFlag } from '../../src/cli/paper-venue.command.js';
import { KEEL_BIN, runKeel } from '../support/cli.js';

const signedQuery = (secret: string, params: Record<string, string>): string => {
  const query = new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
  return `${query}&signature=${createHmac('sha256', secret).update(query).digest('hex')}`;
};

describe('keel paper-venue', () => {
  it('refuses bad flags with the path of each and serves nothing', async () => {
    const result = await runKeel(
      [
        'paper-venue',
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--seed',
        'x',
        '--fault',
        'nonsense:p=1',
        '--fault',
        'reject:p=3',
      ],
      { env: { KEEL_PAPER_API_KEY: '', KEEL_PAPER_API_SECRET: '' } },
    );
    expect(result.code).toBe(2);
    for (const path of [
      'host',
      'apiKey',
      'apiSecret',
      'seed',
      'faults',
      'faults.reject.probability',
      'faults.reject.code',
    ]) {
      expect(result.stderr).toContain(`${path}:`);
    }
    expect(result.stdout).toBe('');
  });

  it('reads fault flags as kind:key=value pairs', () => {
    expect(parseFaultFlag('executionUnknown:p=0.05,landed=false')).toEqual({
      executionUnknown: { probability: 0.05, landed: false },
    });
    expect(parseFaultFlag('reject:next=2,code=-2019')).toEqual({ reject: { next: 2, code: -2019 } });
  });

  it('serves signed Binance requests on loopback, injects flagged faults and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        KEEL_BIN,
        'paper-venue',
        '--port',
        '0',
        '--api-key',
        'cli-key',
        '--api-secret',
        'cli-secret',
        '--fault',
        'reject:next=1,code=-2019',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const deadline = Date.now() + 15_000;
    while (!output.includes('\n')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start line: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      const { url } = JSON.parse(output.split('\n')[0] ?? '') as { url: string };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const order = {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'MARKET',
        quantity: '0.01',
        newClientOrderId: 'EN-cli-1',
      };
      const post = (query: string, key = 'cli-key') =>
        fetch(`${url}/fapi/v1/order?${query}`, { method: 'POST', headers: { 'X-MBX-APIKEY': key } });

      const forged = await post(signedQuery('not-the-secret', order));
      expect(forged.status).toBe(400);
      expect(await forged.json()).toMatchObject({ code: -1022 });
      const wrongKey = await post(signedQuery('cli-secret', order), 'someone-else');
      expect(wrongKey.status).toBe(401);
      expect(await wrongKey.json()).toMatchObject({ code: -2015 });

      // The flagged fault: the first order is refused with -2019, the next one fills.
      const refused = await post(signedQuery('cli-secret', order));
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: -2019 });
      const filled = await post(signedQuery('cli-secret', { ...order, newOrderRespType: 'RESULT' }));
      expect(filled.status).toBe(200);
      expect(filled.headers.get('x-mbx-order-count-10s')).not.toBeNull();
      expect(await filled.json()).toMatchObject({
        clientOrderId: 'EN-cli-1',
        status: 'FILLED',
        executedQty: '0.01',
      });
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
    );
    expect(code).toBe(0);
  });
});
