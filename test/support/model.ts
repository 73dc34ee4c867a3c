/**
 * Model-based testing support shared by every canonical machine.
 *
 * `canonicalTestModel` is `createTestModel` from `xstate/graph` with one change: the root
 * `'*'` strict-mode transition cannot be sent as an event named `*`, so the traversal sends
 * a probe event of an unknown type instead, which exercises the refusal path.
 * `TransitionCoverage` lists every transition a machine declares and records, through the
 * inspection API, which ones the system under test actually took; a test fails on any gap.
 */
import type { AnyEventObject, AnyMachineSnapshot, AnyStateMachine, InspectionEvent } from 'xstate';
import { TestModel, serializeSnapshot } from 'xstate/graph';

/** An event type no machine handles: it exercises each machine's strict-mode wildcard. */
export const PROBE_EVENT: AnyEventObject = { type: 'probe.unhandled' };

interface TransitionLike {
  source: { id: string; transitions: Map<string, TransitionLike[]>; always?: TransitionLike[] };
  eventType: string;
}
interface StateNodeLike {
  id: string;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  states: Record<string, StateNodeLike>;
}

function keyOf(transition: TransitionLike): string {
  const candidates =
    transition.eventType === ''
      ? transition.source.always
      : transition.source.transitions.get(transition.eventType);
  const index = candidates ? candidates.indexOf(transition) : -1;
  return `${transition.source.id} on ${transition.eventType || '(always)'} #${index}`;
}

/** Every transition the machine declares, keyed `stateId on eventType #candidateIndex`. */
export function listTransitions(machine: AnyStateMachine): string[] {
  const keys: string[] = [];
  const walk = (node: StateNodeLike): void => {
    for (const candidates of node.transitions.values())
      for (const transition of candidates) keys.push(keyOf(transition));
    for (const transition of node.always ?? []) keys.push(keyOf(transition));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return keys;
}

export class TransitionCoverage {
  readonly declared: string[];
  readonly covered = new Set<string>();

  constructor(machine: AnyStateMachine) {
    this.declared = listTransitions(machine);
  }

  /** Pass as the `inspect` option of the actor under test. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.microstep') return;
    const transitions = (event as unknown as { _transitions: TransitionLike[] })._transitions;
    for (const transition of transitions) this.covered.add(keyOf(transition));
  };

  uncovered(): string[] {
    return this.declared.filter((key) => !this.covered.has(key));
  }
}

export interface CanonicalModelOptions {
  /** Concrete events with payloads; an event type not listed is sent with no payload. */
  events?: AnyEventObject[] | ((snapshot: AnyMachineSnapshot) => AnyEventObject[]);
  /** Bounds the state key when context can grow (keep only what guards read). */
  serializeState?: (snapshot: AnyMachineSnapshot) => string;
  input?: unknown;
}

interface EventDescriptorSource {
  _nodes: Array<{ ownEvents: string[] }>;
}

export function canonicalTestModel(machine: AnyStateMachine, options: CanonicalModelOptions = {}) {
  const serializeState =
    options.serializeState ?? ((snapshot: AnyMachineSnapshot) => serializeSnapshot(snapshot));
  const traversal: Record<string, unknown> = {
    serializeState: (
      snapshot: AnyMachineSnapshot,
      event: AnyEventObject | undefined,
      previous?: AnyMachineSnapshot,
    ) =>
      `${serializeState(snapshot)}${event ? ` via ${JSON.stringify(event)}${previous ? ` from ${serializeState(previous)}` : ''}` : ''}`,
    stateMatcher: (snapshot: AnyMachineSnapshot, key: string) =>
      key.startsWith('#') ? snapshot._nodes.includes(machine.getStateNodeById(key)) : snapshot.matches(key),
    events: (snapshot: AnyMachineSnapshot) => {
      const given = typeof options.events === 'function' ? options.events(snapshot) : (options.events ?? []);
      const types = new Set(
        (snapshot as unknown as EventDescriptorSource)._nodes.flatMap((node) => node.ownEvents),
      );
      return [...types].flatMap((type) => {
        if (type === '*') return [PROBE_EVENT];
        const matching = given.filter((event) => event.type === type);
        return matching.length > 0 ? matching : [{ type }];
      });
    },
  };
  if (options.input !== undefined) traversal.input = options.input;
  return new TestModel(machine, traversal as never);
}

type StepHandler = (step: { event: AnyEventObject }) => void | Promise<void>;

/**
 * An `events` map for `path.test` that forwards every step's event, whatever its type, to
 * the system under test (TestModel looks handlers up by event type).
 */
export function forwardEveryEvent(
  send: (event: AnyEventObject) => void | Promise<void>,
): Record<string, StepHandler> {
  return new Proxy(
    {},
    {
      get: (_target, type) =>
        typeof type === 'string' ? ({ event }: { event: AnyEventObject }) => send(event) : undefined,
    },
  );
}
