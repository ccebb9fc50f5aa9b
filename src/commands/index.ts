import { heapprofile, heapsnapshot, profile } from './diagnostics';
import { help } from './help';
import { psTerminated, whereTerminated } from './history';
import { blocks, loop, mem } from './loop';
import { metrics } from './metrics';
import { stacktrace } from './process';
import { consoleCommand, exit } from './session';
import { signal } from './signal';
import { status } from './status';
import { cancel, ps, where } from './tasks';
import { trace } from './trace';
import type { Command } from './types';

/** Every command of the monitor prompt, in the order help lists them. */
export const COMMANDS: readonly Command[] = [help, status, ps, where, cancel, psTerminated, whereTerminated, trace, signal, stacktrace, blocks, loop, mem, metrics, profile, heapsnapshot, heapprofile, consoleCommand, exit];
