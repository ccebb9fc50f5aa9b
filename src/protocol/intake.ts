import type net from 'node:net';

/**
 * Output a client may leave unread before it is closed. A session runs its next line only once the answer
 * before has gone out to the kernel, so a client that reads never comes near this, and a single answer of any
 * size goes through; only a command that keeps printing to a client that does not read (loop --watch) gets
 * here. 4 MiB is a `ps` of some 40,000 tasks, or over an hour of loop --watch frames; 16 sessions at the
 * limit stay under 64 MiB.
 */
export const MAX_UNSENT_OUTPUT = 4 * 1024 * 1024;
/**
 * Input read ahead of what the session can take, kept only to find a Ctrl-C in it: the most a user could
 * paste ahead of a command that hangs and still stop it. Past it the socket is not read.
 */
const MAX_HELD_BYTES = 256 * 1024;
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
  const telnet = bytes.lastIndexOf(IAC_IP);
  return Math.max(bytes.lastIndexOf(CTRL_C) + 1, telnet < 0 ? 0 : telnet + IAC_IP.length);
}

/**
 * Hands what the client sends (after `first`, the bytes that came with its token) to `take`, a slice at a time,
 * while `ready()` says the session can take more. Past that it holds what comes, and once it holds
 * MAX_HELD_BYTES it stops reading the socket, so that what the client sends next waits in the kernel, which
 * tells the client to slow down, instead of in this process's memory. With `interrupts`, a Ctrl-C that comes
 * while input is held is taken at once, with all that came before it (which a Ctrl-C drops), so it still
 * stops a command that never ends. Once this side of the socket is ended, input is dropped.
 */
export function paceInput(socket: net.Socket, ready: () => boolean, take: (bytes: Buffer) => void, first: Buffer, interrupts = false): Intake {
  let held: Buffer[] = first.length > 0 ? [first] : [];
  let heldBytes = first.length;
  let digesting = false;
  // Takes the held input up to and including its last Ctrl-C, whatever `ready()` says.
  const jumpToInterrupt = (): void => {
    for (let i = held.length - 1; i >= 0; i--) {
      const cut = afterLastInterrupt(held[i]);
      if (cut === 0) continue;
      const through = Buffer.concat([...held.slice(0, i), held[i].subarray(0, cut)]);
      held = cut < held[i].length ? [held[i].subarray(cut), ...held.slice(i + 1)] : held.slice(i + 1);
      heldBytes -= through.length;
      for (let at = 0; at < through.length && !socket.destroyed; at += SLICE_BYTES) take(through.subarray(at, at + SLICE_BYTES));
      return;
    }
  };
  const digest = (): void => {
    // `take` may make room again and call resume(): the loops here see that room themselves.
    if (digesting) return;
    digesting = true;
    try {
      while (held.length > 0 && ready() && !socket.destroyed) {
        const front = held[0];
        const slice = front.subarray(0, SLICE_BYTES);
        if (slice.length < front.length) held[0] = front.subarray(SLICE_BYTES);
        else held.shift();
        heldBytes -= slice.length;
        take(slice);
      }
      if (interrupts && held.length > 0 && !socket.destroyed) jumpToInterrupt();
    } finally {
      digesting = false;
    }
    if (socket.destroyed) return;
    if (heldBytes >= MAX_HELD_BYTES) socket.pause();
    else socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    if (!socket.writable) return;
    held.push(chunk);
    heldBytes += chunk.length;
    digest();
  });
  digest();
  return { resume: digest };
}
