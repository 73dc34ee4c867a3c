/**
 * Secrets never leave keel: `keel run` as a child process, trading through ccxt's binanceusdm
 * against `keel paper-venue`, with a distinct canary in every secret slot it reads (the API token
 * from a `_FILE`, the shared and per-source webhook secrets, one of them from a `_FILE`, the
 * Telegram bot token, the venue's key, secret and password, and a capability token in the alert
 * webhook's URL). Driven as a user drives it: right and wrong tokens, good and bad webhook
 * signatures and body secrets, health, readiness, metrics, the status endpoints, the live stream,
 * an intent that fills, a venue rejection, the kill switch, errors of every kind, `keel status` and
 * `keel config check`; alerts go to loopback receivers (Telegram's API is redirected there, the
 * first delivery on each channel is refused). Then every output is searched for every canary, raw
 * and in its obvious encodings: stdout and stderr, every HTTP answer's headers and body, every
 * stream message, the CLI's output, every byte of every file under the data dir (SQLite journal and
 * registry, WAL, log), and every alert delivered (the one place a secret may appear is where it is
 * addressed to: the bot token in Telegram's path, the capability in the hook's path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signWebhook } from '../../src/daemon/webhook.js';
import { entryIntent } from '../support/intents.js';
import { KEEL_BIN, runKeel } from '../support/cli.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field with expect
type Json = Record<string, any>;

/** One distinct, recognisable canary per secret slot; the random core is searched for alone too. */
const canary = (slot: string) => `kcanary${slot}${randomBytes(12).toString('hex')}`;
const CANARIES = {
  apiToken: canary('apitoken'),
  webhookSecret: canary('webhookshared'),
  webhookSecretTv: canary('webhooktv'),
  webhookSecretFiled: canary('webhookfiled'),
  telegramBotToken: canary('telegram'),
  venueApiKey: canary('venuekey'),
  venueApiSecret: canary('venuesecret'),
  venueApiPassword: canary('venuepassword'),
  alertHookCapability: canary('alerthook'),
} as const;
type Slot = keyof typeof CANARIES;

/** A secret's spellings worth looking for: raw, its random core, base64 (any alignment), hex, UTF-16. */
function needlesOf(secret: string): Array<{ encoding: string; bytes: Buffer }> {
  const raw = Buffer.from(secret, 'utf8');
  const needles = [
    { encoding: 'raw', bytes: raw },
    { encoding: 'random core', bytes: Buffer.from(secret.slice(-24), 'utf8') },
    { encoding: 'hex', bytes: Buffer.from(raw.toString('hex')) },
    { encoding: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase()) },
    { encoding: 'utf16le', bytes: Buffer.from(secret, 'utf16le') },
    { encoding: 'url-encoded', bytes: Buffer.from(encodeURIComponent(secret)) },
  ];
  // Base64 depends on where the secret starts within a 3-byte group: the characters that encode
  // only the secret's bits, for each of the three alignments, standard and URL-safe.
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64');
    const from = Math.ceil((8 * shift) / 6);
    const to = Math.floor((8 * (shift + raw.length)) / 6);
    const stable = encoded.slice(from, to);
    needles.push({ encoding: `base64+${shift}`, bytes: Buffer.from(stable) });
    needles.push({
      encoding: `base64url+${shift}`,
      bytes: Buffer.from(stable.replaceAll('+', '-').replaceAll('/', '_')),
    });
  }
  return needles;
}

interface Corpus {
  where: string;
  bytes: Buffer;
  /** Slots that may appear here, as the addressee (Telegram's token in its path). */
  allowed?: readonly Slot[];
}

function findLeaks(corpora: readonly Corpus[], canaries: Readonly<Record<string, string>>): string[] {
  const leaks: string[] = [];
  for (const corpus of corpora)
    for (const [slot, secret] of Object.entries(canaries)) {
      if (corpus.allowed?.includes(slot as Slot)) continue;
      const found = needlesOf(secret)
        .map(({ encoding, bytes }) => ({ encoding, bytes, at: corpus.bytes.indexOf(bytes) }))
        .filter((hit) => hit.at >= 0);
      const first = found[0];
      if (first === undefined) continue;
      const context = corpus.bytes
        .subarray(Math.max(0, first.at - 80), first.at + first.bytes.length + 40)
        .toString('utf8')
        .replace(/[^\x20-\x7e]/g, '.');
      const encodings = found.map((hit) => hit.encoding).join(', ');
      leaks.push(`${slot} (${encodings}) in ${corpus.where} at ${first.at}: …${context}…`);
    }
  return leaks;
}

const dir = mkdtempSync(join(tmpdir(), 'keel-canary-'));
const dataDir = join(dir, 'data');
const children: ChildProcess[] = [];
const servers: Server[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function track(child: ChildProcess): { stdout: () => Buffer; stderr: () => Buffer } {
  children.push(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  return { stdout: () => Buffer.concat(out), stderr: () => Buffer.concat(err) };
}

async function until(done: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Received {
  channel: 'telegram' | 'hook';
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Loopback alert receivers: Telegram's Bot API under /tg, the JSON hook under /hook; the first delivery on each is refused. */
async function startReceiver(): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const channel = request.url?.startsWith('/tg/') ? 'telegram' : 'hook';
      received.push({
        channel,
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const first = received.filter((each) => each.channel === channel).length === 1;
      response.writeHead(first ? 500 : 200, { 'content-type': 'application/json' });
      response.end(first ? '{"ok":false,"description":"try again"}' : '{"ok":true}');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, received };
}

describe('secret canaries', () => {
  it('finds each canary in a haystack in every encoding searched for (the detector is not blind)', () => {
    const secret = CANARIES.apiToken;
    const spellings = [
      `x${secret}y`,
      Buffer.from(`a${secret}`).toString('base64'),
      Buffer.from(`ab${secret}`).toString('base64url'),
      Buffer.from(`abc${secret}`).toString('base64'),
      Buffer.from(secret).toString('hex').toUpperCase(),
      `…${secret.slice(-24)}…`,
    ];
    for (const spelling of spellings) {
      const leaks = findLeaks([{ where: 'haystack', bytes: Buffer.from(`{"log":"${spelling}"}`) }], {
        apiToken: secret,
      });
      expect(leaks.length, spelling).toBeGreaterThan(0);
    }
    expect(
      findLeaks([{ where: 'utf16', bytes: Buffer.from(`..${secret}..`, 'utf16le') }], { apiToken: secret }),
    ).not.toEqual([]);
    expect(findLeaks([{ where: 'clean', bytes: Buffer.from(secret.slice(0, -30)) }], CANARIES)).toEqual([]);
  });

  it('appear in no log, answer, stream message, CLI output, data file or alert of a running daemon', async () => {
    const started = Date.now();
    // Secrets: two from files outside the data dir, the rest from the environment.
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir, { mode: 0o700 });
    const apiTokenFile = join(secretsDir, 'api-token');
    writeFileSync(apiTokenFile, `${CANARIES.apiToken}\n`, { mode: 0o600 });
    const filedSecretFile = join(secretsDir, 'webhook-filed');
    writeFileSync(filedSecretFile, `${CANARIES.webhookSecretFiled}\n`, { mode: 0o600 });

    const receiver = await startReceiver();
    // Telegram's API is redirected to the loopback receiver inside the daemon: keel's own code is untouched.
    const preload = join(dir, 'telegram-to-loopback.mjs');
    writeFileSync(
      preload,
      [
        'const original = globalThis.fetch;',
        'globalThis.fetch = (input, init) => {',
        "  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;",
        "  if (url.startsWith('https://api.telegram.org/'))",
        `    return original('http://127.0.0.1:${receiver.port}/tg/' + url.slice('https://api.telegram.org/'.length), init);`,
        '  return original(input, init);',
        '};',
        '',
      ].join('\n'),
    );

    const venueChild = spawn(
      process.execPath,
      [KEEL_BIN, 'paper-venue', '--port', '0', '--seed', '7', '--step-ms', '3600000'],
      {
        env: {
          ...process.env,
          KEEL_PAPER_API_KEY: CANARIES.venueApiKey,
          KEEL_PAPER_API_SECRET: CANARIES.venueApiSecret,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const venueOutput = track(venueChild);
    await until(() => venueOutput.stdout().includes('\n') || venueChild.exitCode !== null);
    const venue = JSON.parse(venueOutput.stdout().toString('utf8').split('\n')[0] ?? '{}') as {
      url: string;
      wsUrl: string;
    };

    const port = await freePort();
    const configFile = join(dir, 'keel.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        keel: {
          venue: { kind: 'ccxt', exchange: 'binanceusdm', urls: { rest: venue.url, ws: venue.wsUrl } },
          reconcile: { intervalMs: 1_000 },
          protection: { requireStops: false },
        },
        logging: { level: 'debug', file: true },
        webhooks: { sources: { tv: {}, filed: {}, shared: {} } },
        alerts: {
          telegram: { chatId: '-100424242' },
          webhook: { url: `http://127.0.0.1:${receiver.port}/hook/${CANARIES.alertHookCapability}` },
          minIntervalMs: 0,
          dedupWindowMs: 60_000,
        },
        health: { checkEveryMs: 250, thresholds: { ingress: { warnMs: 0.001, criticalMs: 0.002 } } },
      }),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KEEL_API_TOKEN_FILE: apiTokenFile,
      KEEL_WEBHOOK_SECRET: CANARIES.webhookSecret,
      KEEL_WEBHOOK_SECRET__TV: CANARIES.webhookSecretTv,
      KEEL_WEBHOOK_SECRET__FILED_FILE: filedSecretFile,
      KEEL_TELEGRAM_BOT_TOKEN: CANARIES.telegramBotToken,
      KEEL_VENUE_API_KEY: CANARIES.venueApiKey,
      KEEL_VENUE_API_SECRET: CANARIES.venueApiSecret,
      KEEL_VENUE_API_PASSWORD: CANARIES.venueApiPassword,
    };
    delete env.KEEL_API_TOKEN;
    // A marker left behind: keel starts as after a crash, and says so in an alert.
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'daemon.running'), '1\n');

    const daemon = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(preload).href,
        KEEL_BIN,
        'run',
        '--config',
        configFile,
        '--data-dir',
        dataDir,
        '--port',
        String(port),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output = track(daemon);
    const base = `http://127.0.0.1:${port}`;

    const answers: Corpus[] = [];
    const call = async (
      label: string,
      method: string,
      path: string,
      options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<{ status: number; json: Json; text: string }> => {
      const token = options.token === undefined ? CANARIES.apiToken : options.token;
      const body =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
      answers.push({
        where: `${label}: ${method} ${path} → ${response.status}`,
        bytes: Buffer.from(`${headers}\n\n${text}`),
      });
      let json: Json = {};
      try {
        json = JSON.parse(text) as Json;
      } catch {
        // Metrics and other text.
      }
      return { status: response.status, json, text };
    };

    await until(async () => {
      if (daemon.exitCode !== null)
        throw new Error(`keel run exited ${daemon.exitCode}: ${output.stderr().toString('utf8')}`);
      try {
        return (await fetch(`${base}/healthz`)).ok;
      } catch {
        return false;
      }
    });
    await until(async () => (await call('ready?', 'GET', '/readyz')).json.ready === true);

    // The live stream, with the token in the query as a browser sends it; and refused with a wrong one.
    const streamed: Buffer[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?token=${CANARIES.apiToken}`);
    socket.on('message', (data) => streamed.push(Buffer.from(data as Buffer)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const refusedStream = await new Promise<number>((resolve) => {
      const wrong = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?token=${CANARIES.apiToken}x`);
      wrong.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        wrong.terminate();
      });
      wrong.once('error', () => resolve(-1));
    });
    expect(refusedStream).toBe(401);

    // Probes, metrics and status, with and without the right token.
    expect((await call('health', 'GET', '/healthz', { token: null })).status).toBe(200);
    expect((await call('ready', 'GET', '/readyz')).status).toBe(200);
    expect((await call('metrics', 'GET', '/metrics')).text).toContain('keel_');
    expect((await call('metrics, no token', 'GET', '/metrics', { token: null })).status).toBe(401);
    for (const [label, token] of Object.entries({
      'last char': `${CANARIES.apiToken.slice(0, -1)}${CANARIES.apiToken.endsWith('0') ? '1' : '0'}`,
      prefix: CANARIES.apiToken.slice(0, -1),
      longer: `${CANARIES.apiToken}0`,
      'another secret': CANARIES.webhookSecret,
    }))
      expect((await call(`wrong token (${label})`, 'GET', '/v1/belief', { token })).status).toBe(401);
    expect(
      (await call('token in query', 'GET', `/v1/belief?token=${CANARIES.apiToken}`, { token: null })).status,
    ).toBe(401);
    expect((await call('belief', 'GET', '/v1/belief')).status).toBe(200);
    expect((await call('dashboard', 'GET', '/dashboard', { token: null })).status).toBe(200);

    // An intent that fills, and everything a user then looks at.
    const sent = await call('entry', 'POST', '/v1/intents', {
      body: entryIntent({ venue: 'binanceusdm', strategy_id: 'canary' }),
      headers: { 'idempotency-key': 'canary-entry' },
    });
    expect(sent.status).toBe(202);
    await until(
      async () =>
        (await call('poll', 'GET', '/v1/intents/canary-entry')).json.intent?.order_status === 'FILLED',
    );
    expect((await call('intent', 'GET', '/v1/intents/canary-entry')).status).toBe(200);
    expect((await call('chart', 'GET', '/v1/intents/canary-entry/statechart')).status).toBe(200);
    expect((await call('list', 'GET', '/v1/intents?limit=100')).status).toBe(200);
    expect((await call('positions', 'GET', '/v1/positions')).status).toBe(200);
    // PnL needs the venue's marks (paper only): a 400 here is one more error answer to search.
    expect((await call('pnl', 'GET', '/v1/pnl/main')).status).toBeLessThan(500);

    // Errors of every kind.
    const invalid = await call('invalid intent', 'POST', '/v1/intents', {
      body: { ...entryIntent({ venue: 'binanceusdm' }), side: 'up', qty: -1 },
    });
    expect(invalid.status).toBe(400);
    expect((await call('not json', 'POST', '/v1/intents', { body: '{"side": ' })).status).toBe(400);
    expect(
      (
        await call('too large', 'POST', '/v1/intents', {
          body: { ...entryIntent({ venue: 'binanceusdm' }), pad: 'x'.repeat(70_000) },
        })
      ).status,
    ).toBe(413);
    expect(
      (
        await call('idempotency conflict', 'POST', '/v1/intents', {
          body: entryIntent({ venue: 'binanceusdm', strategy_id: 'canary', qty: 0.02 }),
          headers: { 'idempotency-key': 'canary-entry' },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await call('bad idempotency key', 'POST', '/v1/intents', {
          body: entryIntent({ venue: 'binanceusdm' }),
          headers: { 'idempotency-key': 'has spaces' },
        })
      ).status,
    ).toBe(400);
    expect((await call('unknown intent', 'GET', '/v1/intents/nope')).status).toBe(404);
    expect((await call('unknown route', 'GET', '/v1/nope')).status).toBe(404);
    expect((await call('bad kill', 'POST', '/v1/kill', { body: {} })).status).toBe(400);
    // A quantity off the venue's step: the venue refuses it, and keel alerts.
    await call('venue rejection', 'POST', '/v1/intents', {
      body: entryIntent({ venue: 'binanceusdm', strategy_id: 'canary-reject', qty: 0.0001234 }),
      headers: { 'idempotency-key': 'canary-reject' },
    });
    await until(
      async () => (await call('poll', 'GET', '/v1/intents/canary-reject')).json.intent?.status === 'FAILED',
    );
    // The kill switch, tripped and reset.
    expect(
      (await call('kill', 'POST', '/v1/kill', { body: { reason: 'canary drill', by: 'ops' } })).status,
    ).toBe(200);
    expect((await call('reset', 'POST', '/v1/kill/reset', { body: { reason: 'drill over' } })).status).toBe(
      200,
    );

    // Webhooks: signed (per-source secret, and one from a file), body secret (the shared one), and refusals.
    const now = Math.floor(Date.now() / 1000);
    const alert = (id: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ id, symbol: 'BTCUSDT', side: 'buy', qty: '0.01', strategy: `wh-${id}`, ...extra });
    const hook = (label: string, source: string, body: string, secret?: string, at = now) =>
      call(label, 'POST', `/v1/webhooks/${source}`, {
        token: null,
        body,
        headers:
          secret === undefined
            ? {}
            : { 'x-keel-signature': signWebhook(secret, at, body), 'x-keel-timestamp': String(at) },
      });
    const tvBody = alert('tv-1');
    expect((await hook('webhook signed', 'tv', tvBody, CANARIES.webhookSecretTv)).status).toBe(202);
    expect((await hook('webhook replay', 'tv', tvBody, CANARIES.webhookSecretTv)).status).toBe(401);
    expect(
      (await hook('webhook bad signature', 'tv', alert('tv-2'), `${CANARIES.webhookSecretTv}x`)).status,
    ).toBe(401);
    expect(
      (await hook('webhook signed with another secret', 'tv', alert('tv-3'), CANARIES.webhookSecret)).status,
    ).toBe(401);
    expect(
      (await hook('webhook stale', 'tv', alert('tv-4'), CANARIES.webhookSecretTv, now - 3_600)).status,
    ).toBe(401);
    expect(
      (await hook('webhook invalid alert', 'tv', alert('tv-5', { side: 'up' }), CANARIES.webhookSecretTv))
        .status,
    ).toBe(400);
    expect(
      (await hook('webhook from file', 'filed', alert('filed-1'), CANARIES.webhookSecretFiled)).status,
    ).toBe(202);
    expect(
      (await hook('webhook unknown source', 'nosuch', alert('x-1'), CANARIES.webhookSecretTv)).status,
    ).toBe(401);
    expect(
      (
        await hook(
          'webhook body secret',
          'shared',
          alert('shared-1', { secret: CANARIES.webhookSecret, timestamp: now }),
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await hook(
          'webhook wrong body secret',
          'shared',
          alert('shared-2', { secret: CANARIES.webhookSecret.slice(0, -1), timestamp: now }),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await hook(
          'webhook invalid alert with body secret',
          'shared',
          alert('shared-3', { secret: CANARIES.webhookSecret, timestamp: now, qty: 'lots' }),
        )
      ).status,
    ).toBe(400);

    // The CLI, as a user runs it beside the daemon.
    const cli: Corpus[] = [];
    const keel = async (label: string, args: string[], cliEnv: Record<string, string> = {}) => {
      const result = await runKeel(args, { env: { KEEL_API_TOKEN: '', ...cliEnv } });
      cli.push({ where: `keel ${label} stdout`, bytes: Buffer.from(result.stdout) });
      cli.push({ where: `keel ${label} stderr`, bytes: Buffer.from(result.stderr) });
      return result;
    };
    const url = ['--url', base];
    expect((await keel('status', ['status', ...url, '--token-file', apiTokenFile])).stdout).toContain(
      'kill switch',
    );
    expect(
      (await keel('status --json', ['status', ...url, '--token-file', apiTokenFile, '--json'])).code,
    ).toBe(0);
    const wrongTokenFile = join(secretsDir, 'wrong-token');
    writeFileSync(wrongTokenFile, `${CANARIES.apiToken.slice(0, -1)}\n`);
    expect((await keel('status, wrong token', ['status', ...url, '--token-file', wrongTokenFile])).code).toBe(
      1,
    );
    const check = await keel(
      'config check',
      ['config', 'check', '--config', configFile, '--data-dir', dataDir, '--port', String(port)],
      Object.fromEntries(
        Object.entries(env).filter(([name]) => name.startsWith('KEEL')) as Array<[string, string]>,
      ),
    );
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('KEEL_TELEGRAM_BOT_TOKEN: "***"');
    // The alert hook's URL is shown by its origin only: its path is the capability.
    expect(check.stdout).toContain(`url: http://127.0.0.1:${receiver.port}/…`);

    // Alerts: the crash restart, the kill switch, the rejection and the degraded stage reach both
    // channels; the first delivery on each was refused, so the failure path ran too.
    await until(
      () =>
        ['telegram', 'hook'].every(
          (channel) => receiver.received.filter((each) => each.channel === channel).length >= 3,
        ) &&
        receiver.received.some(
          (each) => each.channel === 'hook' && (JSON.parse(each.body) as Json).code === 'KILL_SWITCH_TRIPPED',
        ),
    );
    // Telegram's redirect worked: its path carries the bot token, as it must.
    expect(receiver.received.find((each) => each.channel === 'telegram')?.url).toContain(
      `/bot${CANARIES.telegramBotToken}/sendMessage`,
    );
    expect(receiver.received.find((each) => each.channel === 'hook')?.url).toBe(
      `/hook/${CANARIES.alertHookCapability}`,
    );

    socket.close();
    daemon.kill('SIGTERM');
    await until(() => daemon.exitCode !== null);
    expect(daemon.exitCode).toBe(0);
    venueChild.kill('SIGTERM');

    // Every file under the data dir, byte for byte.
    const files: Corpus[] = [];
    const walk = (at: string) => {
      for (const name of readdirSync(at)) {
        const path = join(at, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push({ where: `data dir ${relative(dataDir, path)}`, bytes: readFileSync(path) });
      }
    };
    walk(dataDir);
    const names = files.map((file) => file.where);
    expect(names).toContain('data dir keel.log');
    expect(names.some((name) => name.endsWith('.db') || name.endsWith('.sqlite'))).toBe(true);
    const log = files.find((file) => file.where === 'data dir keel.log')?.bytes.toString('utf8') ?? '';
    // The log saw the failing alert channel, the rejection and the refused requests it must not leak from.
    expect(log).toContain('an alert channel failed');
    expect(log).toContain('"status":401');

    const corpora: Corpus[] = [
      { where: 'keel run stdout', bytes: output.stdout() },
      { where: 'keel run stderr', bytes: output.stderr() },
      ...answers,
      ...streamed.map((bytes, index) => ({ where: `stream message ${index}`, bytes })),
      ...cli,
      ...files,
      ...receiver.received.map((each, index) => ({
        where: `${each.channel} delivery ${index}`,
        bytes: Buffer.from(
          `${each.method}\n${JSON.stringify(each.headers)}\n\n${each.body}\n${
            // The path is the addressee's: only the part after it is searched.
            each.url.replace(
              each.channel === 'telegram'
                ? `/tg/bot${CANARIES.telegramBotToken}/sendMessage`
                : `/hook/${CANARIES.alertHookCapability}`,
              '',
            )
          }`,
        ),
      })),
    ];
    expect(output.stdout().length).toBeGreaterThan(0);
    expect(streamed.length).toBeGreaterThan(5);
    expect(findLeaks(corpora, CANARIES)).toEqual([]);
    console.log(
      `secrets-canary: ${corpora.length} outputs, ${(corpora.reduce((total, each) => total + each.bytes.length, 0) / 1024).toFixed(0)} KiB searched for ${Object.keys(CANARIES).length} canaries in ${needlesOf(CANARIES.apiToken).length} spellings; ${Date.now() - started} ms`,
    );
  }, 120_000);
});
