import type { Endpoint } from '../shared/config';

/** Placeholder for `aiomon attach`, which another branch builds; replaced when they merge. */
export async function attachToPid(pid: number, options: { port?: number }): Promise<{ endpoint: Endpoint; tokenRequired: boolean }> {
  void pid;
  void options;
  throw new Error('attach is not built yet');
}
