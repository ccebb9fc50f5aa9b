import { describeEndpoint, type Endpoint } from '../shared/config';
import { pidAlive } from '../shared/discovery';
import type { Target } from './args';
import { openPrompt, TokenRequiredError, type PromptConnection } from './connection';
import { findRecord, isNodeProcess, processOwner } from './node-processes';
import { readSecret } from './secret';

/** A target the user can fix, such as a pid with no monitor; the message is one line. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/** Where a target's prompt and console listen, and whether it wants a token (null: not known before asking). */
export interface Resolved {
  monitor: Endpoint;
  /** The console's own endpoint, known from a record; undefined for an address given as such, null when it is off. */
  console?: Endpoint | null;
  tokenRequired: boolean | null;
}

/** Finds where a target listens: a pid through the monitors' records, an address as given. */
export function resolveTarget(target: Target): Resolved {
  if (target.kind === 'endpoint') return { monitor: target.endpoint, tokenRequired: null };
  const record = findRecord(target.pid);
  if (record) return { monitor: record.monitor, console: record.console, tokenRequired: record.tokenRequired };
  if (!pidAlive(target.pid)) throw new TargetError(`no process ${target.pid}`);
  const owner = processOwner(target.pid);
  const self = process.getuid?.();
  if (owner !== null && self !== undefined && self !== 0 && owner !== self) {
    throw new TargetError(`process ${target.pid} belongs to another user (uid ${owner}); aiomon finds the monitors of its own user only: run it as that user`);
  }
  if (process.platform === 'linux' && !isNodeProcess(target.pid)) throw new TargetError(`process ${target.pid} is not a Node.js process; aiomon ls lists the Node processes of this user`);
  throw new TargetError(`process ${target.pid} runs without a monitor; attach to it with: aiomon attach ${target.pid}`);
}

/** MONITOR_TOKEN, where a blank value counts as unset, as the preload reads it. */
export function envToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MONITOR_TOKEN?.trim() ? env.MONITOR_TOKEN : undefined;
}

/**
 * Asks for the token on the terminal, or fails with `fallback` when there is none to ask on (the error
 * TokenRequiredError brings, which says to set MONITOR_TOKEN).
 */
export async function askToken(fallback: Error): Promise<string> {
  if (!process.stdin.isTTY) throw fallback;
  const typed = await readSecret('token: ', process.stdin, process.stderr);
  if (typed === null) throw new TargetError('no token given');
  return typed;
}

/**
 * Opens the target's prompt. The token goes first when the record says one is needed; else it is sent only
 * once the monitor asks, so that a monitor without a token never runs MONITOR_TOKEN as a command line.
 */
export async function openTarget(resolved: Resolved): Promise<PromptConnection> {
  const token = envToken();
  if (resolved.tokenRequired === true) {
    const missing = new TokenRequiredError(`the monitor at ${describeEndpoint(resolved.monitor)} asks for a token: set MONITOR_TOKEN, or type it when asked`);
    return openPrompt(resolved.monitor, { token: token ?? (await askToken(missing)) });
  }
  try {
    return await openPrompt(resolved.monitor);
  } catch (error) {
    if (!(error instanceof TokenRequiredError)) throw error;
    return openPrompt(resolved.monitor, { token: token ?? (await askToken(error)) });
  }
}
