import type net from 'node:net';

/**
 * Output a client may leave unread before it is closed. A session runs its next line only once the answer
 * before has gone out to the kernel, so a client that reads never comes near this, and a single answer of any
 * size goes through; only a command that keeps printing to a client that does not read (loop --watch, a
 * custom command's stream) gets here. 4 MiB is a `ps` of some 40,000 tasks, or over an hour of loop --watch
 * frames; 16 sessions at the limit stay under 64 MiB.
 */
export const MAX_UNSENT_OUTPUT = 4 * 1024 * 1024;
/** Input looked at between two checks that the session can take more: what it may overshoot its bound by. */
const SLICE_BYTES = 4096;
const CTRL_C = 3;
const IAC_IP = Buffer.from([255, 244]);

/** A client's input, read no faster than its session takes it. */
export interface Intake {
  /** Reads on, if the session can take more again (its queue shrank, its output drained). */
  resume(): void;
}

// Where the input up to and including its last Ctrl-C ends, or 0 if it has none.
function afterLastInterrupt(bytes: Buffer): number {
  return Math.max(bytes.lastIndexOf(CTRL_C) + 1, bytes.lastIndexOf(IAC_IP) + IAC_IP.length, 0);
}

/**
 * Hands what the client sends (after `first`, the bytes that came with its token) to `take`, a slice at a time,
 * while `ready()` says the session can take more. Past that it holds the rest of the chunk and stops reading
 * the socket, so that what the client sends next waits in the kernel, which tells it to slow down, instead of
 * in this process's memory. A Ctrl-C among the held bytes is taken at once, with what came before it (which a
 * Ctrl-C drops), so it still interrupts a running command. Once this side of the socket is ended, input is dropped.
 */
export function paceInput(socket: net.Socket, ready: () => boolean, take: (bytes: Buffer) => void, first: Buffer): Intake {
  let held: Buffer | null = first.length > 0 ? first : null;
  let digesting = false;
  const digest = (): void => {
    // `take` may make room again and call resume(): the loop below sees that room itself.
    if (digesting) return;
    digesting = true;
    try {
      while (held && ready() && !socket.destroyed) {
        const slice = held.length > SLICE_BYTES ? held.subarray(0, SLICE_BYTES) : held;
        held = held.length > SLICE_BYTES ? held.subarray(SLICE_BYTES) : null;
        take(slice);
      }
      const cut = held ? afterLastInterrupt(held) : 0;
      if (held && cut > 0) {
        const through = held.subarray(0, cut);
        held = cut < held.length ? held.subarray(cut) : null;
        take(through);
      }
    } finally {
      digesting = false;
    }
    if (socket.destroyed) return;
    if (held) socket.pause();
    else socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return;
    held = held ? Buffer.concat([held, chunk]) : chunk;
    digest();
  });
  digest();
  return { resume: digest };
}
