/**
 * The alert channels against a loopback HTTP server standing in for Telegram and a webhook: the
 * message shapes, the bot token kept out of every error, and the guard: notify never waits for a
 * channel, the same alert inside the window is sent once (the next says how many were
 * suppressed), sends are spaced by the minimum interval, the queue is bounded, and a hanging or
 * failing channel changes none of that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { guardNotifier } from '../../src/adapters/notifier/guarded.notifier.js';
import {
  createJsonWebhookNotifier,
  createTelegramNotifier,
} from '../../src/adapters/notifier/http.notifiers.js';
import type { Alert, NotifierPort } from '../../src/ports/notifier.port.js';
import { ManualClock } from '../support/manual-clock.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function serve(
  handler: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => handler(request, body, response));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  severity: 'critical',
  code: 'KILL_SWITCH_TRIPPED',
  text: 'kill switch tripped by operator (alice): drill',
  data: { trigger: 'operator' },
  ...overrides,
});

describe('the HTTP alert channels', () => {
  it('posts a Telegram sendMessage as plain text to the bot URL', async () => {
    const received: Array<{ url: string; body: unknown }> = [];
    const base = await serve((request, body, response) => {
      received.push({ url: request.url ?? '', body: JSON.parse(body) });
      response.end('{"ok":true}');
    });
    await createTelegramNotifier({ botToken: '123:SECRET', chatId: '-100', apiBase: base }).notify(alert());
    expect(received).toEqual([
      {
        url: '/bot123:SECRET/sendMessage',
        body: {
          chat_id: '-100',
          text: '[keel] CRITICAL KILL_SWITCH_TRIPPED\nkill switch tripped by operator (alice): drill',
          disable_web_page_preview: true,
        },
      },
    ]);
  });

  it('never puts the bot token in an error, refused or timed out', async () => {
    const refusing = await serve((_request, _body, response) => {
      response.statusCode = 401;
      response.end('{"ok":false}');
    });
    const hanging = await serve(() => undefined);
    const refused = createTelegramNotifier({ botToken: '123:SECRET', chatId: '1', apiBase: refusing }).notify(
      alert(),
    );
    await expect(refused).rejects.toThrow(/HTTP 401/);
    await expect(refused).rejects.not.toThrow(/SECRET/);
    const timedOut = createTelegramNotifier({
      botToken: '123:SECRET',
      chatId: '1',
      apiBase: hanging,
      timeoutMs: 100,
    }).notify(alert());
    await expect(timedOut).rejects.toThrow(/failed/);
    await expect(timedOut).rejects.not.toThrow(/SECRET/);
  });

  it("never puts a JSON webhook URL's path or query (its capability) in an error, only its origin", async () => {
    const refusing = await serve((_request, _body, response) => {
      response.statusCode = 403;
      response.end();
    });
    const hook = `${refusing}/services/T000/B000/HOOKSECRET?token=QUERYSECRET`;
    const refused = createJsonWebhookNotifier({ url: hook, now: () => 1 }).notify(alert());
    await expect(refused).rejects.toThrow(
      `alert delivery refused: HTTP 403 from ${new URL(refusing).origin}/…`,
    );
    await expect(refused).rejects.not.toThrow(/HOOKSECRET|QUERYSECRET/);
    const hanging = await serve(() => undefined);
    const timedOut = createJsonWebhookNotifier({
      url: `${hanging}/hook/HOOKSECRET`,
      now: () => 1,
      timeoutMs: 100,
    }).notify(alert());
    await expect(timedOut).rejects.toThrow(/failed/);
    await expect(timedOut).rejects.not.toThrow(/HOOKSECRET/);
  });

  it('posts each alert to a JSON webhook with its data and time', async () => {
    const bodies: unknown[] = [];
    const base = await serve((_request, body, response) => {
      bodies.push(JSON.parse(body));
      response.end();
    });
    await createJsonWebhookNotifier({ url: `${base}/hook`, now: () => 42 }).notify(alert());
    expect(bodies).toEqual([
      {
        severity: 'critical',
        code: 'KILL_SWITCH_TRIPPED',
        text: alert().text,
        data: { trigger: 'operator' },
        at: 42,
      },
    ]);
  });
});

function recording(options: { hang?: boolean; fail?: boolean } = {}) {
  const sent: Alert[] = [];
  const notifier: NotifierPort = {
    notify(sentAlert) {
      sent.push(sentAlert);
      if (options.hang) return new Promise(() => undefined);
      return options.fail ? Promise.reject(new Error('channel down')) : Promise.resolve();
    },
  };
  return { sent, notifier };
}

describe('the alert guard', () => {
  it('sends the same alert once inside the window, and says how many were suppressed on the next', async () => {
    const clock = new ManualClock();
    const { sent, notifier } = recording();
    const guard = guardNotifier(notifier, { clock, minIntervalMs: 0, dedupWindowMs: 60_000 });
    for (let repeat = 0; repeat < 5; repeat += 1) await guard.notify(alert());
    await guard.notify(alert({ code: 'OTHER', text: 'other' }));
    await guard.idle();
    clock.advance(60_000);
    await guard.notify(alert());
    await guard.idle();
    expect(sent.map((each) => [each.code, each.data?.suppressed])).toEqual([
      ['KILL_SWITCH_TRIPPED', undefined],
      ['OTHER', undefined],
      ['KILL_SWITCH_TRIPPED', 4],
    ]);
    expect(guard.stats()).toMatchObject({ sent: 3, suppressed: 4 });
  });

  it('spaces sends by the minimum interval and bounds the queue, dropping the oldest non-critical first', async () => {
    const clock = new ManualClock();
    const { sent, notifier } = recording();
    const guard = guardNotifier(notifier, { clock, minIntervalMs: 1_000, dedupWindowMs: 0, maxQueue: 3 });
    await guard.notify(alert({ code: 'A', severity: 'warning' }));
    for (const code of ['B', 'C', 'D', 'E'])
      await guard.notify(alert({ code, severity: code === 'C' ? 'critical' : 'warning' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map((each) => each.code)).toEqual(['A']);
    expect(guard.stats()).toMatchObject({ dropped: 1, queued: 3 });
    for (let step = 0; step < 3; step += 1) {
      clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await guard.idle();
    expect(sent.map((each) => each.code)).toEqual(['A', 'C', 'D', 'E']);
  });

  it('returns at once and keeps working when a channel hangs or fails', async () => {
    const clock = new ManualClock();
    const hanging = recording({ hang: true });
    const failing = recording({ fail: true });
    const fine = recording();
    const guard = guardNotifier([hanging.notifier, failing.notifier, fine.notifier], {
      clock,
      minIntervalMs: 0,
      dedupWindowMs: 0,
    });
    // Both resolve although one channel never answers: notify never waits for delivery.
    await guard.notify(alert({ code: 'ONE' }));
    await guard.notify(alert({ code: 'TWO' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fine.sent.map((each) => each.code)).toEqual(['ONE', 'TWO']);
    expect(failing.sent.map((each) => each.code)).toEqual(['ONE', 'TWO']);
    expect(hanging.sent.map((each) => each.code)).toEqual(['ONE']);
    expect(guard.stats()).toMatchObject({ failed: 2, sent: 2 });
    guard.close();
  });
});
