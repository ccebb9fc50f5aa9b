/** Longest input line the monitor accepts; longer lines are dropped whole. */
export const MAX_LINE_BYTES = 64 * 1024;

/** One unit the line splitter produces. */
export type LineItem = { line: string } | { tooLong: number };

/**
 * Splits a byte stream into UTF-8 lines ending in LF, CR LF or a lone CR.
 * A line over `maxBytes` is reported as `tooLong` and its bytes are discarded as they come,
 * so no more than `maxBytes` is ever buffered.
 */
export function createLineSplitter(maxBytes = MAX_LINE_BYTES): (chunk: Buffer) => LineItem[] {
  let parts: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  let afterCr = false;
  const finish = (items: LineItem[]): void => {
    if (dropped > 0) items.push({ tooLong: dropped + size });
    else items.push({ line: Buffer.concat(parts).toString('utf8') });
    parts = [];
    size = 0;
    dropped = 0;
  };
  return (chunk) => {
    const items: LineItem[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== 10 && byte !== 13) { afterCr = false; continue; }
      const skip = byte === 10 && afterCr;
      afterCr = byte === 13;
      if (!skip) {
        append(chunk.subarray(start, i));
        finish(items);
      }
      start = i + 1;
    }
    append(chunk.subarray(start));
    return items;
  };
  function append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (dropped > 0 || size + piece.length > maxBytes) {
      dropped += size + piece.length;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  }
}
