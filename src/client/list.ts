/** Placeholder for `aiomon ls`, which another branch builds; replaced when they merge. */
export async function runList(options: { json: boolean; token?: string }, out: NodeJS.WritableStream): Promise<number> {
  void options;
  out.write('aiomon ls: not built yet\n');
  return 1;
}
