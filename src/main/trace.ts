import { createHook, executionAsyncResource } from 'node:async_hooks';
import type { TraceSwitch, TracingStatus } from '../shared/rows';
import { processWide } from './process-wide';
import { recordEnded, registry, type TraceLink, type Tracer } from './registry';
import { ownObjects } from './own-objects';
import { describeEnded, endedType, hasEnded, ownerOf } from './trace-ended';

/**
 * Opt-in tracing: every async resource created while it is on remembers where it was created and under
 * which link, so that `where` can print a task's creation chain. Built like AsyncLocalStorage: the current
 * link is a symbol property of the resource whose callback runs, so finding it costs one property read.
 */

/** The property that holds a resource's link; shared by every copy of the package. */
const LINK = Symbol.for('aiomonitor.trace.link');

// Resources that become links of their own, with the stack that created them: timers and handles, which live
// long enough to be looked at in ps. Everything else (promises, nextTicks, immediates, fs/dns/write requests)
// only passes the current link on, for one property write: capturing a stack costs 2-10 µs here, and an async
// HTTP handler makes over 20 of those resources a request.
const LINKED = new Set([
  'Timeout', 'TCPWRAP', 'PIPEWRAP', 'TCPSERVERWRAP', 'PIPESERVERWRAP', 'TLSWRAP', 'PROCESSWRAP', 'UDPWRAP',
  'SIGNALWRAP', 'FSEVENTWRAP', 'STATWATCHER', 'WORKER', 'MESSAGEPORT',
]);

// Resources whose end goes into the history of finished tasks. Requests (fs, dns, writes) and immediates are
// left out: a busy process ends thousands a second, and they would push every named task out of the history.
const REMEMBERED = new Set(['Timeout', 'TCPWRAP', 'PIPEWRAP', 'TCPSERVERWRAP', 'PIPESERVERWRAP', 'PROCESSWRAP']);

// Ends are found by a sweep rather than a destroy hook: with any destroy hook on, Node tracks the collection of
// every promise, which cost an async HTTP handler more than the rest of tracing together (+7 µs a request here).
const SWEEP_MS = 1000;

/** How many links a chain keeps; a loop that re-arms itself would otherwise grow one without end. */
const CHAIN_LIMIT = 24;
// When a chain reaches the limit, its newest half is copied and the rest is let go.
const CHAIN_KEPT = CHAIN_LIMIT / 2;
// Frames captured per link: Node's own frames between the app's call and the hook (about five) are among them
// and dropped when printed. Capturing costs about 1 µs plus 0.1 µs a frame here, the bulk of what tracing costs.
const STACK_FRAMES = 12;

interface Link extends TraceLink {
  parent: Link | null;
  root: Link | null;
  /** How many links can be reached through `parent`, this one included. */
  span: number;
  /** This link's newest ancestors, copied once when a child first had to cut the chain, shared by its other children. */
  trimmed: Link | null;
}

interface Pending {
  link: Link;
  resource: object;
  /** A timer's callback and delay as it was made, which clearTimeout() wipes. */
  callback?: unknown;
  delay?: number;
}

type TimerFields = { _onTimeout: unknown; _idleTimeout: number };

interface TraceState {
  version: 1;
  /** When tracing was last switched on, ms since the epoch; null while it is off. */
  since: number | null;
  holders: number;
  /** Bumped when `trace off` drops every holder, so that older releases do nothing. */
  generation: number;
  enable(): void;
  disable(): void;
}

function capture(above: Function): { stack?: string } {
  const site = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_FRAMES;
  // Frames are kept structured; V8 formats them only when `.stack` is read, at `where` time.
  Error.captureStackTrace(site, above);
  Error.stackTraceLimit = limit;
  return site;
}

function copyNewest(link: Link, count: number): Link {
  const copy: Link = { ...link, trimmed: null };
  if (count <= 1 || !link.parent) {
    copy.parent = null;
    copy.elided = link.parent !== null || link.elided;
    copy.span = 1;
  } else {
    copy.parent = copyNewest(link.parent, count - 1);
    copy.span = copy.parent.span + 1;
  }
  return copy;
}

function newLink(type: string, name: string, parent: Link | null, above: Function | null): Link {
  if (parent && parent.span >= CHAIN_LIMIT) parent = parent.trimmed ??= copyNewest(parent, CHAIN_KEPT);
  return {
    type, name, created: Date.now(), site: above ? capture(above) : {}, parent, elided: false,
    depth: parent ? parent.depth + 1 : 0,
    root: parent ? parent.root ?? parent : null,
    span: parent ? parent.span + 1 : 1,
    trimmed: null,
  };
}

type Carrier = Record<symbol, Link | undefined>;

function currentLink(): Link | undefined {
  return (executionAsyncResource() as Carrier)[LINK];
}

/** The creation link of a resource, a Node object built on one (a socket, a server, a child process) or a ps row's object. */
export function linkOf(object: object): TraceLink | undefined {
  const carrier = object as Carrier & { _handle?: Carrier | null };
  return carrier[LINK] ?? carrier._handle?.[LINK];
}

function createTracer(): { tracer: Tracer; enable(): void; disable(): void } {
  const pending = new Map<number, Pending>();
  let sweeper: NodeJS.Timeout | undefined;
  function init(asyncId: number, type: string, triggerAsyncId: number, resource: object): void {
    const current = currentLink();
    // A timer unref'd from birth is one of Node's own (a socket's idle timeout, re-made on every HTTP request).
    if (!LINKED.has(type) || (type === 'Timeout' && !(resource as NodeJS.Timeout).hasRef())) {
      if (current !== undefined) (resource as Carrier)[LINK] = current;
      return;
    }
    // Node creates some resources (accepted connections) outside any callback: their trigger tells where they belong.
    const parent = current ?? pending.get(triggerAsyncId)?.link ?? null;
    const link = newLink(type, '', parent, init);
    (resource as Carrier)[LINK] = link;
    if (!REMEMBERED.has(type)) return;
    if (type !== 'Timeout') return void pending.set(asyncId, { link, resource });
    const { _onTimeout: callback, _idleTimeout: delay } = resource as TimerFields;
    pending.set(asyncId, { link, resource, callback, delay });
  }
  // Records in the history what ended since the last sweep; what ended is then let go.
  function sweep(): void {
    const state = registry();
    const now = Date.now();
    for (const [asyncId, { link, resource, callback, delay }] of pending) {
      const owner = ownerOf(link.type, resource);
      if (owner && !hasEnded(link.type, resource, owner)) continue;
      pending.delete(asyncId);
      if (!owner) continue;
      recordEnded({
        id: state.ids.get(owner) ?? state.ids.get(resource) ?? state.nextId++,
        type: endedType(link.type, owner), name: '', summary: describeEnded(link.type, owner, { callback, delay }),
        started: link.created, ended: now, outcome: 'ended', link,
      });
    }
  }
  const hook = createHook({ init });
  const tracer: Tracer = {
    begin(type, name, { withStack = true, under } = {}) {
      const parent = under ? (linkOf(under) as Link | undefined) : currentLink();
      const link = newLink(type, name, parent ?? null, withStack ? tracer.begin : null);
      return {
        link,
        run(fn) {
          const resource = executionAsyncResource() as Carrier;
          const before = resource[LINK];
          resource[LINK] = link;
          try {
            return fn();
          } finally {
            resource[LINK] = before;
          }
        },
        enter() {
          (executionAsyncResource() as Carrier)[LINK] = link;
        },
      };
    },
    linkOf,
  };
  return {
    tracer,
    enable() {
      // Made before the hook is on, so that the sweeper is not among what it sweeps.
      sweeper = setInterval(sweep, SWEEP_MS).unref();
      ownObjects.add(sweeper);
      hook.enable();
      registry().tracer = tracer;
    },
    disable() {
      hook.disable();
      clearInterval(sweeper);
      sweep();
      pending.clear();
      if (registry().tracer === tracer) registry().tracer = null;
    },
  };
}

function traceState(): TraceState {
  return processWide('tracing', (): TraceState => {
    const { enable, disable } = createTracer();
    return { version: 1, since: null, holders: 0, generation: 0, enable, disable };
  });
}

/** Turns tracing on until the returned function is called; tracing stays on while anyone holds it. */
export function holdTracing(): () => void {
  const state = traceState();
  if (state.holders++ === 0) {
    state.since = Date.now();
    state.enable();
  }
  const generation = state.generation;
  let released = false;
  return () => {
    if (released || generation !== state.generation) return;
    released = true;
    if (--state.holders === 0) {
      state.since = null;
      state.disable();
    }
  };
}

/** Whether tracing is on, and since when (ms since the epoch). */
export function tracingStatus(): TracingStatus {
  const state = traceState();
  return { on: state.holders > 0, since: state.since };
}

/** `trace on` / `trace off`: switches tracing for the whole process and says whether that changed anything. */
export function switchTracing(on: boolean): TraceSwitch {
  const state = traceState();
  const was = state.holders > 0;
  // Held until `trace off`, which drops every holder at once.
  if (on && !was) holdTracing();
  if (!on && was) {
    // Off means off, whoever switched it on (MONITOR_TRACE, the trace option or this command).
    state.generation++;
    state.holders = 0;
    state.since = null;
    state.disable();
  }
  return { ...tracingStatus(), changed: on !== was };
}
