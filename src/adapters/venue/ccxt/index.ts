/**
 * The live venues keel reaches through ccxt, chosen by exchange id: Binance USDⓈ-M (the
 * reference venue: algo orders, user data stream) and the polling-only unified adapter for the
 * others. Invariant: keys are passed in by the caller, which reads them from the environment.
 */
import type { ClockPort } from '../../../ports/clock.port.js';
import type { LoggerPort } from '../../../ports/logger.port.js';
import type { VenuePort, VenueResult } from '../../../ports/venue.port.js';
import { BinanceUsdmVenue } from './binance.venue.js';
import type { CcxtExchangeId } from './ccxt.client.js';
import { UnifiedCcxtVenue } from './unified.venue.js';

export interface VenueCredentials {
  apiKey: string;
  secret: string;
  /** OKX's API passphrase. */
  password?: string;
}

export interface CcxtVenueOptions extends VenueCredentials {
  exchange: CcxtExchangeId;
  sandbox?: boolean;
  urls?: { rest?: string; ws?: string; streamPath?: string };
  recvWindowMs?: number;
  timeoutMs?: number;
  clock: ClockPort;
  logger?: LoggerPort;
}

/** A live venue: the port, plus loading market rules and releasing its connections. */
export interface CcxtVenue extends VenuePort {
  loadMarkets(): Promise<VenueResult<unknown>>;
  close(): void;
}

/**
 * Opens the live venue for `options.exchange`.
 *
 * @example
 * const venue = openCcxtVenue({ exchange: 'binanceusdm', sandbox: true, apiKey, secret, clock: systemClock });
 * await venue.loadMarkets();
 */
export function openCcxtVenue(options: CcxtVenueOptions): CcxtVenue {
  const { exchange, password, ...rest } = options;
  if (exchange === 'binanceusdm') return new BinanceUsdmVenue(rest);
  // Bybit and OKX: ccxt's unified methods, polled (no user stream), REST bases as ccxt knows them.
  const { urls: _urls, ...unified } = rest;
  return new UnifiedCcxtVenue({ exchange, ...unified, ...(password === undefined ? {} : { password }) });
}
