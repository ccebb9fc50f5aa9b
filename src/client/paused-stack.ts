/** The stack of a main thread paused through the inspector, as lines for the user. */
import { fileURLToPath } from 'node:url';

/** A call frame of `Debugger.paused`, the fields used here. */
export interface PausedFrame {
  functionName?: string;
  url?: string;
  location?: { scriptId?: string; lineNumber?: number; columnNumber?: number };
}

/**
 * One line per frame, innermost first: `  at name (file:line:col)`, 1-based as stack traces print them. A frame's
 * file is its own `url`, or else its script's URL in `scripts` (scriptId to URL, from Debugger.scriptParsed).
 */
export function formatPausedStack(frames: unknown, scripts: ReadonlyMap<string, string> = new Map()): string[] {
  if (!Array.isArray(frames) || frames.length === 0) return ['(the main thread paused with no JavaScript on its stack)'];
  return (frames as PausedFrame[]).map((frame) => {
    const name = frame.functionName || '<anonymous>';
    const url = frame.url || scripts.get(String(frame.location?.scriptId)) || '';
    const file = url ? toPath(url) : '<unknown>';
    const line = (frame.location?.lineNumber ?? -1) + 1;
    const column = (frame.location?.columnNumber ?? -1) + 1;
    return `  at ${name} (${file}:${line}:${column})`;
  });
}

function toPath(url: string): string {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}
