/**
 * The network between keel and `keel paper-venue`'s server in a `keel chaos --network` run: a TCP
 * proxy on loopback that forwards every byte unless its seeded dice say otherwise. On REST it
 * resets a connection before a request is forwarded (the request is lost), or after it was
 * forwarded and answered (the request landed, its answer is lost), or holds an answer back (long,
 * or past the client's timeout); on the user stream it kills the WebSocket connection with a reset,
 * or silently (a half-open connection only a heartbeat notices); and it can reset a new connection
 * as soon as it is accepted. Each client process gets an entrance of its own (a loopback port), so
 * a killed one can be cut off entirely: what it still tries to send is refused, as nothing leaves a
 * dead process. Invariants: it binds loopback only; nothing is ever altered, only delayed, cut short
 * or dropped; a fault fires on one request or connection at a time, and each one that fires is
 * counted by kind.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Each network fault, on when the plan says so, with the probability it fires per opportunity. */
export interface NetworkFaults {
  /** Per REST request: the connection is reset before the request reaches the venue (lost). */
  netResetBeforeRequest?: { probability: number };
  /** Per REST request: the venue executes it, then the connection is reset instead of the answer. */
  netDropResponse?: { probability: number };
  /** Per REST request: the answer is held back `delayMs` (beyond a short client timeout, or just long). */
  netLatencySpike?: { probability: number; delayMs: number };
  /** Per event the venue pushes on the user stream: the event is lost and the connection killed. */
  netStreamKill?: { probability: number; silent: boolean };
  /** Per new connection: reset as soon as it is accepted, as an overloaded or refusing listener does. */
  netRefuseConnection?: { probability: number };
}

export type NetworkFaultKind = keyof NetworkFaults;

/** Every network fault kind, by name (`keel chaos --network --faults` picks among these too). */
export const NETWORK_FAULT_KINDS = [
  'netResetBeforeRequest',
  'netDropResponse',
  'netLatencySpike',
  'netStreamKill',
  'netRefuseConnection',
] as const satisfies readonly NetworkFaultKind[];

export interface FaultProxyOptions {
  /** The server behind the proxy (loopback). */
  target: { host: string; port: number };
  faults: NetworkFaults;
  /** A number in [0, 1): the fault dice, seeded by the caller. */
  random: () => number;
}

/** One client's way through the proxy. */
export interface ProxyEntrance {
  /** `http://127.0.0.1:port`: the REST base the client is pointed at. */
  readonly url: string;
  /** `ws://127.0.0.1:port`: the user stream base. */
  readonly wsUrl: string;
  /**
   * Cuts every connection through this entrance, both ways, and refuses new ones, as when the
   * client process is killed: what the venue already received stands, what was still on its way
   * is lost, and nothing more arrives from it.
   */
  close(): Promise<void>;
}

export interface FaultProxy {
  /** A new entrance, for a new client process; all entrances share the faults and their dice. */
  entrance(): Promise<ProxyEntrance>;
  /** Replaces the faults from now on (an empty object stops them). */
  setFaults(faults: NetworkFaults): void;
  /** How many times each fault fired. */
  faultCounts(): Partial<Record<NetworkFaultKind, number>>;
  /** Closes every entrance. */
  close(): Promise<void>;
}

/** Where a REST exchange on one connection stands: HTTP/1.1 clients send the next request only after an answer. */
type Exchange = 'idle' | 'requested' | 'answering';

/**
 * Creates the proxy; each entrance listens on an ephemeral loopback port.
 *
 * @example
 * const proxy = createFaultProxy({ target: { host: '127.0.0.1', port: server.port },
 *   faults: { netDropResponse: { probability: 0.1 } }, random: seededRandom(7) });
 * const entrance = await proxy.entrance(); // point keel's venue urls at entrance.url and entrance.wsUrl
 */
export function createFaultProxy(options: FaultProxyOptions): FaultProxy {
  let faults = options.faults;
  const counts = new Map<NetworkFaultKind, number>();
  const entrances = new Set<ProxyEntrance>();

  /** Rolls the dice for `kind`; the roll is taken only when the fault is on, so off kinds draw nothing. */
  const fires = <K extends NetworkFaultKind>(kind: K): NonNullable<NetworkFaults[K]> | undefined => {
    const fault = faults[kind];
    if (fault === undefined || !(options.random() < fault.probability)) return undefined;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    return fault;
  };

  /** Carries one client connection to the server, faults and all; `open` tracks both its sockets. */
  const carry = (client: Socket, open: Set<Socket>): void => {
    client.on('error', () => undefined);
    if (fires('netRefuseConnection')) {
      client.resetAndDestroy();
      return;
    }
    open.add(client);
    const upstream = connect(options.target.port, options.target.host);
    open.add(upstream);
    upstream.on('error', () => undefined);
    client.pause();
    upstream.once('connect', () => client.resume());

    let stream: boolean | null = null;
    let exchange: Exchange = 'idle';
    let dropAnswer = false;
    let holdMs = 0;
    /** An answer being held back: its bytes, in order, until its timer releases them. */
    let held: Buffer[] | null = null;
    let holdTimer: NodeJS.Timeout | null = null;
    let endAfterHold = false;
    /** A silently killed stream: both ways go quiet and the sockets stay open. */
    let blackholed = false;
    let upgraded = false;

    const kill = (): void => {
      if (holdTimer !== null) clearTimeout(holdTimer);
      held = null;
      if (!client.destroyed) client.resetAndDestroy();
      upstream.destroy();
    };

    client.on('data', (chunk: Buffer) => {
      if (blackholed) return;
      // The first bytes tell a WebSocket upgrade from a REST request.
      stream ??= /^upgrade:\s*websocket/im.test(chunk.toString('latin1'));
      if (!stream && exchange !== 'requested') {
        exchange = 'requested';
        dropAnswer = false;
        holdMs = 0;
        if (fires('netResetBeforeRequest')) {
          kill();
          return;
        }
        dropAnswer = fires('netDropResponse') !== undefined;
        holdMs = dropAnswer ? 0 : (fires('netLatencySpike')?.delayMs ?? 0);
      }
      upstream.write(chunk);
    });

    upstream.on('data', (chunk: Buffer) => {
      if (blackholed || client.destroyed) return;
      if (stream === true) {
        // The first answer is the upgrade itself; after it, each event pushed (a text frame, never
        // a pong) may be the one that is lost.
        if (upgraded && isTextFrame(chunk)) {
          const killed = fires('netStreamKill');
          if (killed?.silent) {
            blackholed = true;
            return;
          }
          if (killed) {
            kill();
            return;
          }
        }
        upgraded = true;
        client.write(chunk);
        return;
      }
      const first = exchange === 'requested';
      exchange = 'answering';
      if (dropAnswer) {
        // The venue has executed the request and answered: the answer is what is lost.
        kill();
        return;
      }
      if (first && holdMs > 0) {
        held = [chunk];
        holdTimer = setTimeout(() => {
          holdTimer = null;
          const release = held ?? [];
          held = null;
          for (const part of release) if (!client.destroyed) client.write(part);
          if (endAfterHold) client.end();
        }, holdMs);
        return;
      }
      if (held !== null) held.push(chunk);
      else client.write(chunk);
    });

    // A clean end on one side ends the other after what it still has to deliver; an error cuts both.
    client.on('end', () => upstream.end());
    upstream.on('end', () => {
      if (held !== null) endAfterHold = true;
      else client.end();
    });
    client.on('close', () => {
      open.delete(client);
      if (holdTimer !== null) clearTimeout(holdTimer);
      upstream.destroy();
    });
    upstream.on('close', (hadError) => {
      open.delete(upstream);
      if (hadError) kill();
    });
  };

  const entrance = async (): Promise<ProxyEntrance> => {
    const open = new Set<Socket>();
    const server: Server = createServer((client) => carry(client, open));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const opened: ProxyEntrance = {
      url: `http://127.0.0.1:${port}`,
      wsUrl: `ws://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          entrances.delete(opened);
          server.close(() => resolve());
          for (const socket of [...open]) socket.destroy();
          open.clear();
        }),
    };
    entrances.add(opened);
    return opened;
  };

  return {
    entrance,
    setFaults: (next) => {
      faults = next;
    },
    faultCounts: () => Object.fromEntries(counts),
    close: async () => {
      await Promise.all([...entrances].map((each) => each.close()));
    },
  };
}

/**
 * Whether a chunk from the server starts a WebSocket text frame (RFC 6455: opcode 1 in the low
 * bits of the first byte). The server writes each event as one frame, so a chunk starts one.
 */
function isTextFrame(chunk: Buffer): boolean {
  return chunk.length > 0 && ((chunk[0] ?? 0) & 0x0f) === 0x1;
}
