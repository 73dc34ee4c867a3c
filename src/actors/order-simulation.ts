/**
 * Replays a simulation script through one order-intent actor: the engine behind
 * `keel simulate`, and the harness the property tests use. Strict by default: the first
 * refused event stops the replay and the outcome shows the state before it. Lenient mode
 * records refused events as anomalies and goes on, as the daemon does.
 */
import { intentKindSchema } from '../domain/intent.schema.js';
import type { SimulationEvent, SimulationScript } from '../domain/simulation-script.schema.js';
import { TransitionError } from '../domain/errors.js';
import { orderIntentMachine, type OrderIntentEvent } from '../machines/order-intent.machine.js';
import { reportedOrderStatus, type ReportedOrderStatus } from '../machines/order-intent.status.js';
import { createCheckedActor, describeState, type Anomaly, type LifecycleMode } from './checked-actor.js';

export interface SimulationStep {
  index: number;
  event: SimulationEvent['type'];
  machineEvent: OrderIntentEvent['type'];
  from: string;
  to: string;
  status: ReportedOrderStatus;
  filledQty: number;
  /** Commands and facts the lifecycle emitted for this event (order.retry, order.cancel.gave_up, …). */
  emitted: string[];
  /** Present when the lifecycle accepted the event only to ignore it (stale or duplicate). */
  ignored?: string;
  /** Present in lenient mode when the lifecycle refused the event. */
  refused?: true;
}

export interface SimulationOutcome {
  status: ReportedOrderStatus;
  filledQty: number;
  qtyInForce: number;
  overfillQty: number;
  state: string;
  transitions: SimulationStep[];
  /** Events refused in lenient mode (strict mode stops at the first, reported as `error`). */
  anomalies: Array<Anomaly & { index: number; machineEvent: string }>;
  error?: { code: string; state: string; event: string; index: number; message: string };
}

/** Reads an informational field: used when it is a non-empty string or a number, else ignored. */
function information(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Maps the script vocabulary onto the lifecycle's venue and intent events. */
export function toMachineEvent(event: SimulationEvent): OrderIntentEvent {
  switch (event.type) {
    case 'submit':
      return event.retry === true ? { type: 'intent.submit', retry: true } : { type: 'intent.submit' };
    case 'ack': {
      const venueOrderId = information(event.venue_order_id);
      return venueOrderId === undefined
        ? { type: 'venue.order.accepted' }
        : { type: 'venue.order.accepted', venueOrderId };
    }
    case 'reject': {
      const rejected: OrderIntentEvent = { type: 'venue.order.rejected' };
      if (event.reason !== undefined) rejected.reason = event.reason;
      const code = information(event.code);
      if (code !== undefined) rejected.code = code;
      return rejected;
    }
    case 'partial_fill':
    case 'fill':
      return event.trade_id === undefined || event.trade_id === null
        ? { type: 'venue.order.filled', qty: event.qty }
        : { type: 'venue.order.filled', qty: event.qty, tradeId: String(event.trade_id) };
    case 'cancel_request':
      return { type: 'intent.cancel' };
    case 'cancel_ack':
    case 'unsolicited_cancel':
      return { type: 'venue.order.canceled' };
    case 'cancel_reject': {
      const reason = information(event.reason);
      return reason === undefined
        ? { type: 'venue.cancel.rejected' }
        : { type: 'venue.cancel.rejected', reason };
    }
    case 'replace_request':
      return { type: 'intent.replace', newQty: event.new_qty };
    case 'replace_ack':
      return { type: 'venue.order.replaced' };
    case 'replace_reject': {
      const reason = information(event.reason);
      return reason === undefined
        ? { type: 'venue.replace.rejected' }
        : { type: 'venue.replace.rejected', reason };
    }
    case 'expire':
      return { type: 'venue.order.expired' };
    case 'unknown_order':
      return { type: 'venue.order.unknown' };
    case 'timeout':
      return { type: 'venue.request.timeout' };
    case 'triggered':
      return { type: 'venue.order.triggered' };
  }
}

export function simulateOrder(script: SimulationScript, mode: LifecycleMode = 'strict'): SimulationOutcome {
  const anomalies: SimulationOutcome['anomalies'] = [];
  let index = -1;
  let currentEvent = '';
  const sut = createCheckedActor(orderIntentMachine, {
    mode,
    input: {
      clientOrderId: information(script.order.client_order_id) ?? 'SIM-1',
      correlationId: 'simulation',
      qty: script.order.qty,
      ...(intentKindSchema.safeParse(script.order.kind).success
        ? { kind: intentKindSchema.parse(script.order.kind) }
        : {}),
    },
    onAnomaly: (anomaly) =>
      anomalies.push({ ...anomaly, event: currentEvent, machineEvent: anomaly.event, index }),
  });
  let ignoredReason: string | undefined;
  let emitted: string[] = [];
  sut.actor.on('*', (fact) => {
    if (fact.type === 'lifecycle.ignored') ignoredReason = fact.reason;
    else if (fact.type !== 'lifecycle.refused') emitted.push(fact.type);
  });

  const transitions: SimulationStep[] = [];
  let error: SimulationOutcome['error'];
  for (const [position, event] of script.events.entries()) {
    index = position;
    currentEvent = event.type;
    const machineEvent = toMachineEvent(event);
    const from = describeState(sut.getSnapshot().value);
    const anomaliesBefore = anomalies.length;
    ignoredReason = undefined;
    emitted = [];
    try {
      sut.send(machineEvent);
    } catch (caught) {
      if (!(caught instanceof TransitionError)) throw caught;
      error = { code: caught.code, state: caught.state, event: event.type, index, message: caught.message };
      break;
    }
    const snapshot = sut.getSnapshot();
    const step: SimulationStep = {
      index,
      event: event.type,
      machineEvent: machineEvent.type,
      from,
      to: describeState(snapshot.value),
      status: reportedOrderStatus(snapshot),
      filledQty: snapshot.context.filledQty,
      emitted,
    };
    if (ignoredReason !== undefined) step.ignored = ignoredReason;
    if (anomalies.length > anomaliesBefore) step.refused = true;
    transitions.push(step);
  }

  const snapshot = sut.getSnapshot();
  sut.stop();
  const outcome: SimulationOutcome = {
    status: reportedOrderStatus(snapshot),
    filledQty: snapshot.context.filledQty,
    qtyInForce: snapshot.context.qtyInForce,
    overfillQty: snapshot.context.overfillQty,
    state: describeState(snapshot.value),
    transitions,
    anomalies,
  };
  if (error !== undefined) outcome.error = error;
  return outcome;
}
