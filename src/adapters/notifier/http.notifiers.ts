/**
 * Alert channels over HTTP: Telegram's Bot API (`sendMessage`) and a generic JSON webhook.
 * Invariants: a send is bounded by a timeout; a refusal or a timeout rejects with a message that
 * never contains the bot token (it is part of Telegram's URL) nor a webhook URL's path or query (a
 * hook's URL is often its only secret: Slack's, Discord's), only its origin; the body is plain JSON
 * text, so no alert text can be read as markup.
 */
import type { Alert, NotifierPort } from '../../ports/notifier.port.js';

type Fetch = typeof fetch;

/** A URL as an error shows it: its origin, the rest (where a hook's secret lives) elided. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const bare = parsed.pathname === '/' && parsed.search === '' && parsed.hash === '';
    return bare ? parsed.origin : `${parsed.origin}/…`;
  } catch {
    return '(the configured URL)';
  }
}

const render = (alert: Alert): string =>
  `[keel] ${alert.severity.toUpperCase()} ${alert.code}\n${alert.text}`;

async function post(
  fetchImpl: Fetch,
  url: string,
  body: unknown,
  timeoutMs: number,
  redact: (text: string) => string,
) {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(
      redact(`alert delivery failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  if (!response.ok)
    throw new Error(redact(`alert delivery refused: HTTP ${response.status} from ${shownUrl(url)}`));
}

/**
 * Posts alerts to a Telegram chat through a bot.
 *
 * @example
 * const telegram = createTelegramNotifier({ botToken: secrets.telegramBotToken, chatId: '-100123' });
 */
export function createTelegramNotifier(options: {
  botToken: string;
  chatId: string;
  apiBase?: string;
  timeoutMs?: number;
  fetch?: Fetch;
}): NotifierPort {
  const base = (options.apiBase ?? 'https://api.telegram.org').replace(/\/$/, '');
  const url = `${base}/bot${options.botToken}/sendMessage`;
  const redact = (text: string) => text.split(options.botToken).join('<bot token>');
  return {
    notify: (alert) =>
      post(
        options.fetch ?? fetch,
        url,
        { chat_id: options.chatId, text: render(alert), disable_web_page_preview: true },
        options.timeoutMs ?? 5_000,
        redact,
      ),
  };
}

/**
 * Posts each alert as JSON `{ severity, code, text, data, at }` to a URL.
 *
 * @example
 * const hook = createJsonWebhookNotifier({ url: 'https://hooks.example.com/keel', now: () => clock.now() });
 */
export function createJsonWebhookNotifier(options: {
  url: string;
  now: () => number;
  timeoutMs?: number;
  fetch?: Fetch;
}): NotifierPort {
  return {
    notify: (alert) =>
      post(
        options.fetch ?? fetch,
        options.url,
        {
          severity: alert.severity,
          code: alert.code,
          text: alert.text,
          data: alert.data ?? {},
          at: options.now(),
        },
        options.timeoutMs ?? 5_000,
        (text) => text.split(options.url).join(shownUrl(options.url)),
      ),
  };
}
