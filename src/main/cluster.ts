import type { ChildProcess } from 'node:child_process';
import { CONSOLE_PORT, MONITOR_PORT, WEB_PORT, type MonitorOptions } from '../shared/config';

type Cluster = typeof import('node:cluster').default;

// Loaded on demand: a process that is not in a cluster has no reason to load the module.
const loadCluster = (): Cluster => require('node:cluster') as Cluster;

/** The cluster worker ID of this process, or 0 outside a cluster worker. */
export function clusterWorkerId(): number {
  // Only a process forked with an IPC channel can be a cluster worker; others need not load `cluster` at all.
  if (!process.channel) return 0;
  const cluster = loadCluster();
  return cluster.isWorker ? (cluster.worker?.id ?? 0) : 0;
}

function shift(port: number | undefined, fallback: number, id: number): number {
  const base = port ?? fallback;
  return base === 0 ? 0 : base + id;
}

/**
 * Cluster workers inherit the primary's preload and environment: each takes MONITOR_PORT + its worker ID
 * (console and web page likewise, socket files get a `.ID` suffix), so that they do not fight the primary for its ports.
 */
export function forClusterWorker(options: MonitorOptions, id: number): MonitorOptions {
  if (id === 0) return options;
  return {
    ...options,
    port: shift(options.port, MONITOR_PORT, id),
    consolePort: shift(options.consolePort, CONSOLE_PORT, id),
    ...(options.path && options.webPort === undefined ? {} : { webPort: shift(options.webPort, WEB_PORT, id) }),
    path: options.path && `${options.path}.${id}`,
    consolePath: options.consolePath && `${options.consolePath}.${id}`,
  };
}

let primaryOptions: MonitorOptions | undefined;

/** Remembers how this process's monitor was configured, so that ps can tell where its cluster workers listen. */
export function notePrimaryOptions(options: MonitorOptions): void {
  primaryOptions = options;
}

/** "cluster worker 2, monitor on port 50103" for a child that is a cluster worker of this primary, else undefined. */
export function describeClusterWorker(child: ChildProcess): string | undefined {
  const cluster = loadCluster();
  if (!cluster.isPrimary || !cluster.workers) return undefined;
  const worker = Object.values(cluster.workers).find((candidate) => candidate?.process === child);
  if (!worker) return undefined;
  if (!primaryOptions) return `cluster worker ${worker.id}`;
  const { port, path } = forClusterWorker(primaryOptions, worker.id);
  return `cluster worker ${worker.id}, monitor on ${path ?? `port ${port}`}`;
}
