/**
 * Binance USDⓈ-M futures error codes (developers.binance.com, derivatives/usds-margined-futures/
 * error-code), each with keel's policy and the reason a person reads in the journal.
 * Invariants: every code the exchange notes name is here; an "execution status unknown" code
 * asks for a lookup before any resend of a write; "unknown order" is never terminal on its own.
 * The paper venue answers with these codes too.
 */
import type { OrderErrorContext, OrderErrorPolicy } from '../order-error.schema.js';

/** What keel does about one code in one context. */
export interface VenueErrorRule {
  policy: OrderErrorPolicy;
  reason: string;
  /** `'write'`: look up first only after create, cancel, replace (or an unknown context). */
  lookupFirst?: boolean | 'write';
  /** A rate limit: the verdict says how long to wait (Retry-After, or a default). */
  rateLimited?: boolean;
}

export interface VenueErrorRow extends VenueErrorRule {
  /** The published error name (`CANCEL_REJECTED`). */
  name: string;
  /** The published message, or its first form when the page lists several. */
  message: string;
  /** Where the same code means something else depending on the operation. */
  byContext?: Partial<Record<OrderErrorContext, VenueErrorRule>>;
}

type Extra = Pick<VenueErrorRow, 'lookupFirst' | 'rateLimited' | 'byContext'>;
type Row = readonly [code: number, row: VenueErrorRow];

const row =
  (policy: OrderErrorPolicy) =>
  (code: number, name: string, message: string, reason: string, extra: Extra = {}): Row => [
    code,
    { name, message, policy, reason, ...extra },
  ];
const retry = row('retryable');
const fix = row('retryable_with_modification');
const safe = row('idempotent_safe');
const fatal = row('fatal');

const AMBIGUOUS = { lookupFirst: 'write' } as const;
const LOOKUP = { lookupFirst: true } as const;
const RATE = { rateLimited: true } as const;

// "Unknown order" is never terminal on its own (DESIGN.md): the order is gone (filled,
// cancelled, expired), purged, or not yet visible, and only a status fetch says which.
const ORDER_GONE_ON_REPLACE: VenueErrorRule = {
  policy: 'fatal',
  reason:
    'the order to amend no longer exists (filled, cancelled or expired); fetch its status, do not resend',
  lookupFirst: true,
};
const UNKNOWN_ORDER_BY_CONTEXT: VenueErrorRow['byContext'] = {
  query: {
    policy: 'retryable',
    lookupFirst: false,
    reason: 'unknown order on a read, which is not terminal: query again, then reconcile',
  },
  cancel: {
    policy: 'idempotent_safe',
    lookupFirst: true,
    reason:
      'unknown order on cancel: already gone (filled, cancelled or expired); confirm by fetching its status',
  },
  any: {
    policy: 'idempotent_safe',
    lookupFirst: true,
    reason: 'unknown order (a cancel answer): already gone; confirm by fetching its status',
  },
  replace: ORDER_GONE_ON_REPLACE,
};
const NO_SUCH_ORDER_BY_CONTEXT: VenueErrorRow['byContext'] = {
  query: {
    policy: 'retryable',
    lookupFirst: false,
    reason:
      'order not found, which is not terminal either: not yet visible, purged (3 or 90 days) or never created; query again, then reconcile',
  },
  cancel: {
    policy: 'idempotent_safe',
    lookupFirst: true,
    reason: 'order not found on cancel: already gone or never created; confirm by fetching its status',
  },
  any: {
    policy: 'retryable',
    lookupFirst: true,
    reason: 'order not found: not terminal on its own; confirm by fetching its status',
  },
  replace: ORDER_GONE_ON_REPLACE,
};

const BAD_STATUS_BY_CONTEXT: VenueErrorRow['byContext'] = {
  cancel: {
    policy: 'fatal',
    lookupFirst: true,
    reason: 'the order status does not allow a cancel (finished or triggering?); fetch its status',
  },
  replace: {
    policy: 'fatal',
    lookupFirst: true,
    reason: 'the order status does not allow an amend; fetch its status',
  },
};

// One row per code, laid out as a table: prettier would give every argument its own line.
// prettier-ignore
const rows: readonly Row[] = [
  // 10xx — general server or network issues
  retry(-1000, 'UNKNOWN', 'An unknown error occured while processing the request.',
    'unknown server error: the request may or may not have been executed', AMBIGUOUS),
  retry(-1001, 'DISCONNECTED', 'Internal error; unable to process your request. Please try again.',
    'internal error before processing; the request was not executed and may be sent again'),
  fatal(-1002, 'UNAUTHORIZED', 'You are not authorized to execute this request.',
    'not authorized: check the API key permissions'),
  retry(-1003, 'TOO_MANY_REQUESTS', 'Too many requests; current limit is %s requests per minute.',
    'request-weight limit exceeded: pause every request from this IP until Retry-After', RATE),
  fatal(-1004, 'DUPLICATE_IP', 'This IP is already on the white list', 'IP white-list administration error'),
  fatal(-1005, 'NO_SUCH_IP', 'No such IP has been white listed', 'IP white-list administration error'),
  retry(-1006, 'UNEXPECTED_RESP', 'An unexpected response was received from the message bus. Execution status unknown.',
    'execution status unknown: look the order up by clientOrderId before any resend', AMBIGUOUS),
  retry(-1007, 'TIMEOUT', 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
    'backend timeout, execution status unknown: look the order up by clientOrderId before any resend', AMBIGUOUS),
  retry(-1008, 'REQUEST_THROTTLED', 'Server is currently overloaded with other requests. Please try again in a few minutes.',
    'server overloaded or system-level throttle: back off and retry (reduce-only and close-position orders are exempt)', RATE),
  fatal(-1010, 'ERROR_MSG_RECEIVED', 'ERROR_MSG_RECEIVED.',
    'the venue returned an unexplained error message'),
  fatal(-1011, 'NON_WHITE_LIST', 'This IP cannot access this route.',
    'this IP is not white-listed for the API key'),
  fix(-1013, 'INVALID_MESSAGE', 'INVALID_MESSAGE.',
    'a symbol filter rejected the order: round price and quantity to the exchange filters'),
  fatal(-1014, 'UNKNOWN_ORDER_COMPOSITION', 'Unsupported order combination.',
    'the venue does not support this combination of order parameters'),
  retry(-1015, 'TOO_MANY_ORDERS', 'Too many new orders; current limit is %s orders per %s.',
    'order-rate limit exceeded for the account: wait until Retry-After', RATE),
  retry(-1016, 'SERVICE_SHUTTING_DOWN', 'This service is no longer available.',
    'service unavailable (maintenance); the request was not executed'),
  fatal(-1020, 'UNSUPPORTED_OPERATION', 'This operation is not supported.',
    'the venue does not support this operation'),
  fix(-1021, 'INVALID_TIMESTAMP', 'Timestamp for this request is outside of the recvWindow.',
    'clock drift: resync with the server time, re-sign and retry'),
  fatal(-1022, 'INVALID_SIGNATURE', 'Signature for this request is not valid.',
    'invalid signature: check the API secret and the signing code'),
  fatal(-1023, 'START_TIME_GREATER_THAN_END_TIME', 'Start time is greater than end time.',
    'malformed time range'),
  fatal(-1099, 'NOT_FOUND', 'Not found, unauthenticated, or unauthorized.',
    'unauthenticated or unauthorized request'),

  // 11xx — request issues: keel built a request the venue cannot read; resending it cannot help
  fatal(-1100, 'ILLEGAL_CHARS', "Illegal characters found in parameter '%s'; legal range is '%s'.",
    'illegal characters in a parameter (a clientOrderId outside the venue charset?)'),
  fatal(-1101, 'TOO_MANY_PARAMETERS', 'Too many parameters sent for this endpoint.',
    'malformed request: too many parameters'),
  fatal(-1102, 'MANDATORY_PARAM_EMPTY_OR_MALFORMED', 'A mandatory parameter was not sent, was empty/null, or malformed.',
    'malformed request: a mandatory parameter is missing or malformed'),
  fatal(-1103, 'UNKNOWN_PARAM', 'An unknown parameter was sent.', 'malformed request: unknown parameter'),
  fatal(-1104, 'UNREAD_PARAMETERS', 'Not all sent parameters were read.',
    'malformed request: parameters not read'),
  fatal(-1105, 'PARAM_EMPTY', 'A parameter was empty.', 'malformed request: empty parameter'),
  fatal(-1106, 'PARAM_NOT_REQUIRED', 'A parameter was sent when not required.',
    'a parameter was sent when not allowed (reduceOnly in hedge mode?)'),
  fatal(-1108, 'BAD_ASSET', 'Invalid asset.', 'invalid asset'),
  fatal(-1109, 'BAD_ACCOUNT', 'Invalid account.', 'invalid account'),
  fatal(-1110, 'BAD_INSTRUMENT_TYPE', 'Invalid symbolType.', 'invalid symbol type'),
  fix(-1111, 'BAD_PRECISION', 'Precision is over the maximum defined for this asset.',
    'too many decimals: round price and quantity to the symbol precision'),
  retry(-1112, 'NO_DEPTH', 'No orders on book for symbol.', 'the order book is empty; nothing was executed'),
  fatal(-1113, 'WITHDRAW_NOT_NEGATIVE', 'Withdrawal amount must be negative.', 'invalid withdrawal amount'),
  fatal(-1114, 'TIF_NOT_REQUIRED', 'TimeInForce parameter sent when not required.',
    'timeInForce sent on an order type that takes none'),
  fatal(-1115, 'INVALID_TIF', 'Invalid timeInForce.', 'invalid timeInForce'),
  // Not a rounding problem: the type itself is wrong for this endpoint, so a modified resend is no fix.
  fatal(-1116, 'INVALID_ORDER_TYPE', 'Invalid orderType.', 'invalid order type for this endpoint'),
  fatal(-1117, 'INVALID_SIDE', 'Invalid side.', 'invalid side'),
  fatal(-1118, 'EMPTY_NEW_CL_ORD_ID', 'New client order ID was empty.', 'empty clientOrderId'),
  fatal(-1119, 'EMPTY_ORG_CL_ORD_ID', 'Original client order ID was empty.', 'empty original clientOrderId'),
  fatal(-1120, 'BAD_INTERVAL', 'Invalid interval.', 'invalid interval'),
  fatal(-1121, 'BAD_SYMBOL', 'Invalid symbol.', 'invalid symbol'),
  fatal(-1122, 'INVALID_SYMBOL_STATUS', 'Invalid symbol status.', 'the symbol is not trading'),
  fix(-1125, 'INVALID_LISTEN_KEY', 'This listenKey does not exist.',
    'the listenKey expired: create a new one, reconnect and reconcile the gap'),
  fatal(-1126, 'ASSET_NOT_SUPPORTED', 'This asset is not supported.', 'asset not supported'),
  fatal(-1127, 'MORE_THAN_XX_HOURS', 'Lookup interval is too big.', 'lookup interval too large'),
  fatal(-1128, 'OPTIONAL_PARAMS_BAD_COMBO', 'Combination of optional parameters invalid.',
    'invalid combination of optional parameters'),
  fatal(-1130, 'INVALID_PARAMETER', "Data sent for parameter '%s' is not valid.", 'invalid parameter value'),
  fatal(-1136, 'INVALID_NEW_ORDER_RESP_TYPE', 'Invalid newOrderRespType.', 'invalid newOrderRespType'),

  // 20xx — processing issues
  fatal(-2010, 'NEW_ORDER_REJECTED', 'NEW_ORDER_REJECTED', 'the venue rejected the new order'),
  fatal(-2011, 'CANCEL_REJECTED', 'Cancel request failure as open order not found in the orderbook: "Unknown order sent".',
    'a cancel rejection answered a request that was not a cancel', { byContext: UNKNOWN_ORDER_BY_CONTEXT }),
  retry(-2012, 'CANCEL_ALL_FAIL', 'Batch cancel failure.',
    'batch cancel failed; cancels are idempotent, retry', LOOKUP),
  fatal(-2013, 'NO_SUCH_ORDER', 'Order does not exist.',
    'order not found in answer to a create', { byContext: NO_SUCH_ORDER_BY_CONTEXT }),
  fatal(-2014, 'BAD_API_KEY_FMT', 'API-key format invalid.', 'API key format invalid'),
  fatal(-2015, 'REJECTED_MBX_KEY', 'Invalid API-key, IP, or permissions for action.',
    'invalid API key, IP or permissions for this action'),
  fatal(-2016, 'NO_TRADING_WINDOW', 'No trading window could be found for the symbol. Try ticker/24hrs instead.',
    'no trading window for the symbol'),
  fatal(-2017, 'API_KEYS_LOCKED', 'API Keys are locked on this account.',
    'API keys are locked on this account'),
  fatal(-2018, 'BALANCE_NOT_SUFFICIENT', 'Balance is insufficient.', 'insufficient balance'),
  fatal(-2019, 'MARGIN_NOT_SUFFICIEN', 'Margin is insufficient.', 'insufficient margin'),
  fix(-2020, 'UNABLE_TO_FILL', 'Unable to fill.',
    'the book could not fill the order as sent; change price, size or type'),
  fix(-2021, 'ORDER_WOULD_IMMEDIATELY_TRIGGER', 'Order would immediately trigger.',
    'the stop price is already crossed: move it or act at market'),
  fix(-2022, 'REDUCE_ONLY_REJECT', 'ReduceOnly Order is rejected.',
    'reduce-only order would not reduce, or conflicts with open orders: reconcile, cancel the conflicting order, resubmit'),
  fatal(-2023, 'USER_IN_LIQUIDATION', 'User in liquidation mode now.', 'the account is being liquidated'),
  fix(-2024, 'POSITION_NOT_SUFFICIENT', 'Position is not sufficient.',
    'the position is smaller than the order: reconcile and resize'),
  fatal(-2025, 'MAX_OPEN_ORDER_EXCEEDED', 'Reach max open order limit.',
    'open-order limit reached (algo orders count too): cancel orders first'),
  fatal(-2026, 'REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED', 'This OrderType is not supported when reduceOnly.',
    'this order type cannot be reduce-only'),
  fatal(-2027, 'MAX_LEVERAGE_RATIO', 'Exceeded the maximum allowable position at current leverage.',
    'position limit at current leverage exceeded'),
  fatal(-2028, 'MIN_LEVERAGE_RATIO', 'Leverage is smaller than permitted: insufficient margin balance.',
    'insufficient margin balance for the leverage'),

  // 40xx — filters and other issues
  fatal(-4000, 'INVALID_ORDER_STATUS', 'Invalid order status.',
    'the order status does not allow this request', { byContext: BAD_STATUS_BY_CONTEXT }),
  fix(-4001, 'PRICE_LESS_THAN_ZERO', 'Price less than 0.', 'price below zero'),
  fix(-4002, 'PRICE_GREATER_THAN_MAX_PRICE', 'Price greater than max price.',
    'price above PRICE_FILTER maxPrice'),
  fix(-4003, 'QTY_LESS_THAN_ZERO', 'Quantity less than zero.',
    'quantity zero or below (rounded to nothing?)'),
  fix(-4004, 'QTY_LESS_THAN_MIN_QTY', 'Quantity less than min quantity.', 'quantity below LOT_SIZE minQty'),
  fix(-4005, 'QTY_GREATER_THAN_MAX_QTY', 'Quantity greater than max quantity.',
    'quantity above LOT_SIZE maxQty'),
  fix(-4006, 'STOP_PRICE_LESS_THAN_ZERO', 'Stop price less than zero.', 'stop price below zero'),
  fix(-4007, 'STOP_PRICE_GREATER_THAN_MAX_PRICE', 'Stop price greater than max price.',
    'stop price above maxPrice'),
  // -4008 … -4012 and -4017 … -4019 validate a symbol's filter definitions, not an order.
  fatal(-4008, 'TICK_SIZE_LESS_THAN_ZERO', 'Tick size less than zero.', 'invalid symbol filter definition'),
  fatal(-4009, 'MAX_PRICE_LESS_THAN_MIN_PRICE', 'Max price less than min price.',
    'invalid symbol filter definition'),
  fatal(-4010, 'MAX_QTY_LESS_THAN_MIN_QTY', 'Max qty less than min qty.', 'invalid symbol filter definition'),
  fatal(-4011, 'STEP_SIZE_LESS_THAN_ZERO', 'Step size less than zero.', 'invalid symbol filter definition'),
  fatal(-4012, 'MAX_NUM_ORDERS_LESS_THAN_ZERO', 'Max num orders less than zero.',
    'invalid symbol filter definition'),
  fix(-4013, 'PRICE_LESS_THAN_MIN_PRICE', 'Price less than min price.', 'price below PRICE_FILTER minPrice'),
  fix(-4014, 'PRICE_NOT_INCREASED_BY_TICK_SIZE', 'Price not increased by tick size.',
    'price off the PRICE_FILTER tick: round it to tickSize'),
  // keel's ids always fit (ids.ts), so this is a bug to fix, not an order to adjust.
  fatal(-4015, 'INVALID_CL_ORD_ID_LEN', 'Client order id length should not be more than 36 chars',
    'clientOrderId invalid or longer than 36 characters'),
  fix(-4016, 'PRICE_HIGHTER_THAN_MULTIPLIER_UP', 'Price is higher than mark price multiplier cap.',
    'price above the PERCENT_PRICE band: move it towards the mark price'),
  fatal(-4017, 'MULTIPLIER_UP_LESS_THAN_ZERO', 'Multiplier up less than zero.',
    'invalid symbol filter definition'),
  fatal(-4018, 'MULTIPLIER_DOWN_LESS_THAN_ZERO', 'Multiplier down less than zero.',
    'invalid symbol filter definition'),
  fatal(-4019, 'COMPOSITE_SCALE_OVERFLOW', 'Composite scale too large.', 'composite scale too large'),
  fatal(-4020, 'TARGET_STRATEGY_INVALID', "Target strategy invalid for orderType '%s',reduceOnly '%b'.",
    'invalid target strategy for this order type'),
  fatal(-4021, 'INVALID_DEPTH_LIMIT', 'Invalid depth limit.', 'invalid depth limit'),
  fatal(-4022, 'WRONG_MARKET_STATUS', 'market status sent is not valid.', 'invalid market status'),
  fix(-4023, 'QTY_NOT_INCREASED_BY_STEP_SIZE', 'Qty not increased by step size.',
    'quantity off the LOT_SIZE step: round it to stepSize'),
  fix(-4024, 'PRICE_LOWER_THAN_MULTIPLIER_DOWN', 'Price is lower than mark price multiplier floor.',
    'price below the PERCENT_PRICE band: move it towards the mark price'),
  fatal(-4025, 'MULTIPLIER_DECIMAL_LESS_THAN_ZERO', 'Multiplier decimal less than zero.',
    'invalid symbol filter definition'),
  fatal(-4026, 'COMMISSION_INVALID', 'Commission invalid.', 'invalid commission'),
  fatal(-4027, 'INVALID_ACCOUNT_TYPE', 'Invalid account type.', 'invalid account type'),
  fatal(-4028, 'INVALID_LEVERAGE', 'Invalid leverage', 'invalid leverage'),
  fatal(-4029, 'INVALID_TICK_SIZE_PRECISION', 'Tick size precision is invalid.',
    'invalid tick size precision'),
  fatal(-4030, 'INVALID_STEP_SIZE_PRECISION', 'Step size precision is invalid.',
    'invalid step size precision'),
  fatal(-4031, 'INVALID_WORKING_TYPE', 'Invalid parameter working type', 'invalid workingType'),
  fix(-4032, 'EXCEED_MAX_CANCEL_ORDER_SIZE', 'Exceed maximum cancel order size.',
    'too many orders in one batch cancel: split the batch'),
  fatal(-4033, 'INSURANCE_ACCOUNT_NOT_FOUND', 'Insurance account not found.', 'insurance account not found'),
  fatal(-4044, 'INVALID_BALANCE_TYPE', 'Balance Type is invalid.', 'invalid balance type'),
  fatal(-4045, 'MAX_STOP_ORDER_EXCEEDED', 'Reach max stop order limit.',
    'stop-order limit reached: cancel stops first'),
  safe(-4046, 'NO_NEED_TO_CHANGE_MARGIN_TYPE', 'No need to change margin type.',
    'the margin type is already set'),
  fatal(-4047, 'THERE_EXISTS_OPEN_ORDERS', 'Margin type cannot be changed if there exists open orders.',
    'margin type cannot change while orders are open'),
  fatal(-4048, 'THERE_EXISTS_QUANTITY', 'Margin type cannot be changed if there exists position.',
    'margin type cannot change while a position is open'),
  fatal(-4049, 'ADD_ISOLATED_MARGIN_REJECT', 'Add margin only support for isolated position.',
    'margin can be added to isolated positions only'),
  fatal(-4050, 'CROSS_BALANCE_INSUFFICIENT', 'Cross balance insufficient.',
    'insufficient cross-margin balance'),
  fatal(-4051, 'ISOLATED_BALANCE_INSUFFICIENT', 'Isolated balance insufficient.',
    'insufficient isolated-margin balance'),
  safe(-4052, 'NO_NEED_TO_CHANGE_AUTO_ADD_MARGIN', 'No need to change auto add margin.',
    'auto-add margin is already set'),
  fatal(-4053, 'AUTO_ADD_CROSSED_MARGIN_REJECT', 'Auto add margin only support for isolated position.',
    'auto-add margin applies to isolated positions only'),
  fatal(-4054, 'ADD_ISOLATED_MARGIN_NO_POSITION_REJECT', 'Cannot add position margin: position is 0.',
    'no position to add margin to'),
  fatal(-4055, 'AMOUNT_MUST_BE_POSITIVE', 'Amount must be positive.', 'amount must be positive'),
  fatal(-4056, 'INVALID_API_KEY_TYPE', 'Invalid api key type.', 'invalid API key type'),
  fatal(-4057, 'INVALID_RSA_PUBLIC_KEY', 'Invalid api public key', 'invalid API public key'),
  fatal(-4058, 'MAX_PRICE_TOO_LARGE', 'maxPrice and priceDecimal too large,please check.',
    'invalid symbol filter definition'),
  safe(-4059, 'NO_NEED_TO_CHANGE_POSITION_SIDE', 'No need to change position side.',
    'the position mode is already set'),
  fatal(-4060, 'INVALID_POSITION_SIDE', 'Invalid position side.', 'invalid positionSide'),
  fatal(-4061, 'POSITION_SIDE_NOT_MATCH', "Order's position side does not match user's setting.",
    'positionSide does not match the account mode (one-way vs hedge): fix the configuration'),
  fatal(-4062, 'REDUCE_ONLY_CONFLICT', 'Invalid or improper reduceOnly value.', 'invalid reduceOnly value'),
  // -4063 … -4081 (but -4067/-4068) belong to an options product; no futures order gets them.
  fatal(-4063, 'INVALID_OPTIONS_REQUEST_TYPE', 'Invalid options request type', 'options request error'),
  fatal(-4064, 'INVALID_OPTIONS_TIME_FRAME', 'Invalid options time frame', 'options request error'),
  fatal(-4065, 'INVALID_OPTIONS_AMOUNT', 'Invalid options amount', 'options request error'),
  fatal(-4066, 'INVALID_OPTIONS_EVENT_TYPE', 'Invalid options event type', 'options request error'),
  fatal(-4067, 'POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS', 'Position side cannot be changed if there exists open orders.',
    'the position mode cannot change while orders are open'),
  fatal(-4068, 'POSITION_SIDE_CHANGE_EXISTS_QUANTITY', 'Position side cannot be changed if there exists position.',
    'the position mode cannot change while a position is open'),
  fatal(-4069, 'INVALID_OPTIONS_PREMIUM_FEE', 'Invalid options premium fee', 'options request error'),
  fatal(-4070, 'INVALID_CL_OPTIONS_ID_LEN', 'Client options id is not valid.', 'options request error'),
  fatal(-4071, 'INVALID_OPTIONS_DIRECTION', 'Invalid options direction', 'options request error'),
  fatal(-4072, 'OPTIONS_PREMIUM_NOT_UPDATE', 'premium fee is not updated, reject order', 'options request error'),
  fatal(-4073, 'OPTIONS_PREMIUM_INPUT_LESS_THAN_ZERO', 'input premium fee is less than 0, reject order',
    'options request error'),
  fatal(-4074, 'OPTIONS_AMOUNT_BIGGER_THAN_UPPER', 'Order amount is bigger than upper boundary or less than 0, reject order',
    'options request error'),
  fatal(-4075, 'OPTIONS_PREMIUM_OUTPUT_ZERO', 'output premium fee is less than 0, reject order', 'options request error'),
  fatal(-4076, 'OPTIONS_PREMIUM_TOO_DIFF', 'original fee is too much higher than last fee', 'options request error'),
  fatal(-4077, 'OPTIONS_PREMIUM_REACH_LIMIT', 'place order amount has reached to limit, reject order',
    'options request error'),
  fatal(-4078, 'OPTIONS_COMMON_ERROR', 'options internal error', 'options request error'),
  fatal(-4079, 'INVALID_OPTIONS_ID', 'invalid options id', 'options request error'),
  fatal(-4080, 'OPTIONS_USER_NOT_FOUND', 'user not found', 'options request error'),
  fatal(-4081, 'OPTIONS_NOT_FOUND', 'options not found', 'options request error'),
  fatal(-4082, 'INVALID_BATCH_PLACE_ORDER_SIZE', 'Invalid number of batch place orders.',
    'too many orders in one batch (at most 5)'),
  retry(-4083, 'PLACE_BATCH_ORDERS_FAIL', 'Fail to place batch orders.',
    'batch placement failed; some orders may have landed', AMBIGUOUS),
  fatal(-4084, 'UPCOMING_METHOD', 'Method is not allowed currently. Upcoming soon.',
    'method not available yet'),
  fatal(-4085, 'INVALID_NOTIONAL_LIMIT_COEF', 'Invalid notional limit coefficient',
    'invalid notional limit coefficient'),
  fatal(-4086, 'INVALID_PRICE_SPREAD_THRESHOLD', 'Invalid price spread threshold',
    'invalid price spread threshold'),
  fatal(-4087, 'REDUCE_ONLY_ORDER_PERMISSION', 'User can only place reduce only order',
    'the account may place reduce-only orders only: entries are refused'),
  fatal(-4088, 'NO_PLACE_ORDER_PERMISSION', 'User can not place order currently',
    'the account may not place orders now'),
  fatal(-4104, 'INVALID_CONTRACT_TYPE', 'Invalid contract type', 'invalid contract type'),
  fatal(-4109, 'INACTIVE_ACCOUNT', 'Inactive account',
    'the futures account is inactive: transfer any amount in to reactivate it'),
  fatal(-4114, 'INVALID_CLIENT_TRAN_ID_LEN', 'clientTranId is not valid', 'invalid clientTranId'),
  safe(-4115, 'DUPLICATED_CLIENT_TRAN_ID', 'clientTranId is duplicated',
    'the transfer with this clientTranId was already made', LOOKUP),
  safe(-4116, 'DUPLICATED_CLIENT_ORDER_ID', 'clientOrderId is duplicated',
    'duplicate clientOrderId: an earlier send of this order may have landed; fetch it by clientOrderId', LOOKUP),
  retry(-4117, 'STOP_ORDER_TRIGGERING', 'stop order is triggering',
    'the stop is triggering now: fetch its status before retrying', LOOKUP),
  fix(-4118, 'REDUCE_ONLY_MARGIN_CHECK_FAILED', 'ReduceOnly Order Failed. Please check your existing position and open orders',
    'with open same-side orders it would flip the position: reconcile, cancel the open order, then resubmit'),
  fatal(-4120, 'STOP_ORDER_SWITCH_ALGO', 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.',
    'conditional orders must go through the algo-order endpoint (since 2025-12-09)'),
  fix(-4131, 'MARKET_ORDER_REJECT', "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
    'a market order would fill outside the PERCENT_PRICE band: use a limit order or a smaller size'),
  fix(-4135, 'INVALID_ACTIVATION_PRICE', 'Invalid activation price', 'invalid activation price'),
  fatal(-4137, 'QUANTITY_EXISTS_WITH_CLOSE_POSITION', 'Quantity must be zero with closePosition equals true',
    'a close-position order was sent with a quantity'),
  fatal(-4138, 'REDUCE_ONLY_MUST_BE_TRUE', 'Reduce only must be true with closePosition equals true',
    'reduceOnly and closePosition disagree'),
  fatal(-4139, 'ORDER_TYPE_CANNOT_BE_MKT', "Order type can not be market if it's unable to cancel",
    'a market order is not allowed here'),
  fatal(-4140, 'INVALID_OPENING_POSITION_STATUS', 'Invalid symbol status for opening position',
    'the symbol does not allow opening positions now'),
  fatal(-4141, 'SYMBOL_ALREADY_CLOSED', 'Symbol is closed', 'the symbol is closed'),
  fix(-4142, 'STRATEGY_INVALID_TRIGGER_PRICE', 'REJECT: take profit or stop order will be triggered immediately',
    'the trigger price is already crossed: move it or act at market'),
  fatal(-4144, 'INVALID_PAIR', 'Invalid pair', 'invalid pair'),
  fatal(-4161, 'ISOLATED_LEVERAGE_REJECT_WITH_POSITION', 'Leverage reduction is not supported in Isolated Margin Mode with open positions',
    'leverage cannot be reduced on an isolated position'),
  fix(-4164, 'MIN_NOTIONAL', "Order's notional must be no smaller than %s (unless you choose reduce only)",
    'notional below MIN_NOTIONAL: increase the size (reduce-only orders are exempt)'),
  fatal(-4165, 'INVALID_TIME_INTERVAL', 'Invalid time interval', 'invalid time interval'),
  fatal(-4167, 'ISOLATED_REJECT_WITH_JOINT_MARGIN', 'Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures under isolated-margin mode.',
    'multi-assets mode conflicts with isolated margin'),
  fatal(-4168, 'JOINT_MARGIN_REJECT_WITH_ISOLATED', 'Unable to adjust to isolated-margin mode under the Multi-Assets mode.',
    'isolated margin conflicts with multi-assets mode'),
  fatal(-4169, 'JOINT_MARGIN_REJECT_WITH_MB', 'Unable to adjust Multi-Assets Mode with insufficient margin balance in USDⓈ-M Futures.',
    'insufficient margin balance to change the asset mode'),
  fatal(-4170, 'JOINT_MARGIN_REJECT_WITH_OPEN_ORDER', 'Unable to adjust Multi-Assets Mode with open orders in USDⓈ-M Futures.',
    'the asset mode cannot change while orders are open'),
  safe(-4171, 'NO_NEED_TO_CHANGE_JOINT_MARGIN', 'Adjusted asset mode is currently set and does not need to be adjusted repeatedly.',
    'the asset mode is already set'),
  fatal(-4172, 'JOINT_MARGIN_REJECT_WITH_NEGATIVE_BALANCE', 'Unable to adjust Multi-Assets Mode with a negative wallet balance of margin available asset in USDⓈ-M Futures account.',
    'negative wallet balance blocks the asset-mode change'),
  // The published page repeats -4167's name on this row; the message is what identifies it.
  fix(-4183, 'PRICE_HIGHER_THAN_STOP_MULTIPLIER_UP', 'Price is higher than stop price multiplier cap.',
    'limit price too far above the stop price: bring it closer'),
  fix(-4184, 'PRICE_LOWER_THAN_STOP_MULTIPLIER_DOWN', 'Price is lower than stop price multiplier floor.',
    'limit price too far below the stop price: bring it closer'),
  fatal(-4192, 'COOLING_OFF_PERIOD', 'Trade forbidden due to Cooling-off Period.',
    'trading is in a cooling-off period'),
  fatal(-4202, 'ADJUST_LEVERAGE_KYC_FAILED', 'Intermediate Personal Verification is required for adjusting leverage over 20x',
    'leverage above 20x needs verification'),
  fatal(-4203, 'ADJUST_LEVERAGE_ONE_MONTH_FAILED', 'More than 20x leverage is available one month after account registration.',
    'leverage above 20x not yet available'),
  fatal(-4205, 'ADJUST_LEVERAGE_X_DAYS_FAILED', 'More than 20x leverage is available %s days after Futures account registration.',
    'leverage above 20x not yet available'),
  fatal(-4206, 'ADJUST_LEVERAGE_KYC_LIMIT', 'Users in this country has limited adjust leverage.',
    'leverage limited in this region'),
  fatal(-4208, 'ADJUST_LEVERAGE_ACCOUNT_SYMBOL_FAILED', 'Current symbol leverage cannot exceed 20 when using position limit adjustment service.',
    'leverage limited to 20x'),
  fatal(-4209, 'ADJUST_LEVERAGE_SYMBOL_FAILED', 'The max leverage of Symbol is 20x',
    'leverage above the symbol maximum'),
  fix(-4210, 'STOP_PRICE_HIGHER_THAN_PRICE_MULTIPLIER_LIMIT', 'Stop price is higher than price multiplier cap.',
    'stop price above the allowed band: move it towards the mark price'),
  fix(-4211, 'STOP_PRICE_LOWER_THAN_PRICE_MULTIPLIER_LIMIT', 'Stop price is lower than price multiplier floor.',
    'stop price below the allowed band: move it towards the mark price'),
  fatal(-4400, 'TRADING_QUANTITATIVE_RULE', 'Futures Trading Quantitative Rules violated, only reduceOnly order is allowed, please try again later.',
    'quantitative-rules restriction: only reduce-only orders are allowed for now'),
  fatal(-4401, 'LARGE_POSITION_SYM_RULE', 'Futures Trading Risk Control Rules of large position holding violated, only reduceOnly order is allowed, please reduce the position.',
    'large-position restriction: only reduce-only orders are allowed'),
  fatal(-4402, 'COMPLIANCE_BLACK_SYMBOL_RESTRICTION', 'this feature is currently not available in your region.',
    'not available in this region'),
  fatal(-4403, 'ADJUST_LEVERAGE_COMPLIANCE_FAILED', 'the leverage can only up to 10x in your region',
    'leverage limited in this region'),
  // Not on the published page; the message is from a live test in tiagosiebler/binance (batch orders).
  fatal(-4408, 'SYMBOL_IN_REDUCE_ONLY_MODE', 'This symbol is in reduce only mode due to regulation requirements.',
    'the symbol accepts reduce-only orders only (regulation): entries are refused'),

  // 50xx — order execution issues
  fix(-5021, 'FOK_ORDER_REJECT', 'Due to the order could not be filled immediately, the FOK order has been rejected.',
    'FOK order could not fill at once: change price, size or time in force'),
  fix(-5022, 'GTX_ORDER_REJECT', 'Due to the order could not be executed as maker, the Post Only order will be rejected.',
    'post-only (GTX) order would cross the book: move the price away from the touch'),
  fatal(-5024, 'MOVE_ORDER_NOT_ALLOWED_SYMBOL_REASON', 'Symbol is not in trading status. Order amendment is not permitted.',
    'the symbol is not trading: amendments are refused'),
  fatal(-5025, 'LIMIT_ORDER_ONLY', 'Only limit order is supported.', 'only limit orders can be amended'),
  fatal(-5026, 'EXCEED_MAXIMUM_MODIFY_ORDER_LIMIT', 'Exceed maximum modify order limit.',
    'amend limit reached for this order: cancel and place a new one instead'),
  safe(-5027, 'SAME_ORDER', 'No need to modify the order.', 'the order already has these values'),
  fix(-5028, 'ME_RECVWINDOW_REJECT', 'Timestamp for this request is outside of the ME recvWindow.',
    'the matching engine saw the request outside recvWindow: resync the clock and retry'),
  fix(-5029, 'MODIFICATION_MIN_NOTIONAL', "Order's notional must be no smaller than %s",
    'the amended notional is below MIN_NOTIONAL'),
  fatal(-5037, 'INVALID_PRICE_MATCH', 'Invalid price match', 'invalid priceMatch'),
  fatal(-5038, 'UNSUPPORTED_ORDER_TYPE_PRICE_MATCH', 'Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT',
    'priceMatch is not supported for this order type'),
  fatal(-5039, 'INVALID_SELF_TRADE_PREVENTION_MODE', 'Invalid self trade prevention mode',
    'invalid self-trade prevention mode'),
  fix(-5040, 'FUTURE_GOOD_TILL_DATE', 'The goodTillDate timestamp must be greater than the current time plus 600 seconds',
    'goodTillDate must be more than 600 s ahead'),
  fix(-5041, 'BBO_ORDER_REJECT', 'No depth matches this BBO order', 'no book depth matches the BBO order'),
  retry(-5043, 'EXISTING_PENDING_MODIFICATION', 'A pending modification already exists for this order.',
    'an earlier amend is still pending: fetch the order, then amend again if still needed', LOOKUP),
];

/** The published USDⓈ-M codes keel knows, with policy and reason. */
export const BINANCEUSDM_ERRORS: ReadonlyMap<number, VenueErrorRow> = new Map(rows);

/** The rule for `code` in `context`, or undefined for a code keel does not know. */
export function binanceUsdmRuleFor(code: number, context: OrderErrorContext): VenueErrorRule | undefined {
  const found = BINANCEUSDM_ERRORS.get(code);
  if (!found) return undefined;
  return found.byContext?.[context] ?? found;
}
