/** Telnet command bytes (RFC 854) that the monitor acts on. */
export const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const IP = 244; // Interrupt Process: what telnet sends for Ctrl-C
const EOF = 236; // what telnet in line mode sends for Ctrl-D
const BYTE_CTRL_C = 3;
const BYTE_CTRL_D = 4;

/** Something the client signalled out of band. */
export type TelnetEvent = 'interrupt' | 'eof';

/** What one chunk of client bytes amounts to. */
export interface Decoded {
  /**
   * In the order they came: plain data (telnet sequences and NUL padding removed) and
   * Ctrl-C / Ctrl-D, sent either as telnet commands or as raw control bytes.
   */
  parts: (Buffer | TelnetEvent)[];
  /** Bytes to send back: refusals of every option the client asks for. */
  reply: Buffer;
}

type State = 'data' | 'iac' | 'option' | 'sub' | 'sub-iac';

const NO_REPLY = Buffer.alloc(0);

// Whether a chunk holds none of the bytes the decoder acts on: IAC, Ctrl-C, Ctrl-D and NUL padding.
function isPlain(chunk: Buffer): boolean {
  return !chunk.includes(IAC) && !chunk.includes(BYTE_CTRL_C) && !chunk.includes(BYTE_CTRL_D) && !chunk.includes(0);
}

/**
 * Strips telnet negotiation from a byte stream, across chunk boundaries.
 * The monitor offers no options, so it answers every DO with WONT and every WILL with DONT;
 * plain `nc` clients, which send no negotiation, pass through untouched.
 */
export function createTelnetDecoder(): (chunk: Buffer) => Decoded {
  let state: State = 'data';
  let verb = 0;
  return (chunk) => {
    // Most chunks are plain text: they pass whole, without a look at each byte.
    if (state === 'data' && isPlain(chunk)) return { parts: chunk.length > 0 ? [chunk] : [], reply: NO_REPLY };
    let data: number[] = [];
    const reply: number[] = [];
    const parts: Decoded['parts'] = [];
    const event = (name: TelnetEvent): void => {
      if (data.length) parts.push(Buffer.from(data));
      data = [];
      parts.push(name);
    };
    for (const byte of chunk) {
      switch (state) {
        case 'data':
          if (byte === IAC) state = 'iac';
          else if (byte === BYTE_CTRL_C) event('interrupt');
          else if (byte === BYTE_CTRL_D) event('eof');
          else if (byte !== 0) data.push(byte);
          break;
        case 'iac':
          state = 'data';
          if (byte === IAC) data.push(IAC);
          else if (byte >= WILL && byte <= DONT) { verb = byte; state = 'option'; }
          else if (byte === SB) state = 'sub';
          else if (byte === IP) event('interrupt');
          else if (byte === EOF) event('eof');
          break;
        case 'option':
          if (verb === DO) reply.push(IAC, WONT, byte);
          else if (verb === WILL) reply.push(IAC, DONT, byte);
          state = 'data';
          break;
        case 'sub':
          if (byte === IAC) state = 'sub-iac';
          break;
        case 'sub-iac':
          state = byte === SE ? 'data' : 'sub';
          break;
      }
    }
    if (data.length) parts.push(Buffer.from(data));
    return { parts, reply: Buffer.from(reply) };
  };
}

/** Turns every line ending into the CRLF that telnet clients need. */
export function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
