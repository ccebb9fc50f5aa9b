const REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another monitor, or another app)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'that address is not one of this machine',
  ENOTFOUND: 'no such host',
};

/** The one-line reason a server of the monitor could not listen, with what to do. */
export function listenFailure(what: string, host: string, port: number, error: NodeJS.ErrnoException): Error {
  const reason = REASONS[error.code ?? ''] ?? error.message.split('\n')[0];
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Error(`cannot listen for ${what} on ${where}: ${reason}; choose another port (0 picks a free one)`);
}
