/**
 * What /proc tells `aiomon` about a process it attaches to: its listening TCP sockets, how it handles
 * SIGUSR1, the inspector port its flags ask for. The parsers are pure (tested on fixture text); the
 * readers around them return null where /proc does not answer.
 */
import fs from 'node:fs';

/** A listening TCP socket, as /proc/net/tcp or tcp6 lists it. */
export interface ListeningSocket {
  inode: number;
  /** The local address, IPv6 in its short form without brackets. */
  host: string;
  port: number;
}

const LISTEN = '0A';

/** An address of /proc/net/tcp{,6}: 32-bit words in the kernel's (little-endian) byte order, then the port. */
function parseAddress(hex: string): { host: string; port: number } | null {
  const [ip, port] = hex.split(':');
  if (!ip || !port || !/^[0-9A-F]+$/i.test(ip + port)) return null;
  const bytes: number[] = [];
  for (let word = 0; word < ip.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2) bytes.push(parseInt(ip.slice(word + byte, word + byte + 2), 16));
  }
  let host: string;
  if (bytes.length === 4) host = bytes.join('.');
  else if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    // The URL parser writes an IPv6 address in its canonical short form.
    host = new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
  } else return null;
  return { host, port: parseInt(port, 16) };
}

/** The listening sockets in the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseListeningSockets(text: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN) continue;
    const address = parseAddress(fields[1]!);
    const inode = Number(fields[9]);
    if (address && Number.isInteger(inode) && inode > 0) sockets.push({ inode, ...address });
  }
  return sockets;
}

/** The inode of a socket from the target of a /proc/PID/fd link (`socket:[123]`), or null for any other file. */
export function socketInode(link: string): number | null {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : null;
}

/** How a process handles one signal, from /proc/PID/status. */
export interface SignalDisposition {
  caught: boolean;
  ignored: boolean;
  blocked: boolean;
}

/** The disposition of signal number `signal` in the text of /proc/PID/status; null when the masks are missing. */
export function parseSignalDisposition(status: string, signal: number): SignalDisposition | null {
  const mask = (name: string): boolean | null => {
    const match = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'mi').exec(status);
    return match ? ((BigInt(`0x${match[1]}`) >> BigInt(signal - 1)) & 1n) === 1n : null;
  };
  const caught = mask('SigCgt');
  const ignored = mask('SigIgn');
  const blocked = mask('SigBlk');
  if (caught === null || ignored === null || blocked === null) return null;
  return { caught, ignored, blocked };
}

/** The real uid in the text of /proc/PID/status, or null. */
export function parseUid(status: string): number | null {
  const match = /^Uid:\s*(\d+)/m.exec(status);
  return match ? Number(match[1]) : null;
}

/** Node's options that take their value as the next argument, so that it is not taken for the script. */
const VALUE_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--inspect-port', '--debug-port', '-C', '--conditions', '--title', '--env-file', '--input-type', '--stack-size']);

/** Node's own options on a command line: what comes after the executable and before the script (or -e / -p code). */
export function nodeOptionsOf(argv: string[]): string[] {
  const options: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-')) break;
    options.push(arg);
    if (['-e', '--eval', '-p', '--print'].includes(arg)) break;
    if (VALUE_OPTIONS.has(arg) && i + 1 < argv.length) options.push(argv[++i]!);
  }
  return options;
}

/** Where the inspector listens once opened, as the flags say (the last one wins); Node's default is 127.0.0.1:9229. */
export function inspectorAddressOf(options: string[]): { host: string; port: number } {
  let host = '127.0.0.1';
  let port = 9229;
  const apply = (value: string): void => {
    const match = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(value);
    if (!match) {
      if (value !== '') host = value;
      return;
    }
    if (match[1]) host = match[1];
    port = Number(match[2]);
  };
  for (let i = 0; i < options.length; i++) {
    const [name, value] = splitOption(options[i]!);
    if (!/^--(inspect(-brk|-wait|-port)?|debug-port)$/.test(name)) continue;
    if (value !== undefined) apply(value);
    else if (name === '--inspect-port' || name === '--debug-port') apply(options[++i] ?? '');
  }
  return { host, port };
}

/** Whether Node's flags turn off the inspector's start on SIGUSR1. */
export function disablesSigusr1(options: string[]): boolean {
  return options.some((option) => splitOption(option)[0] === '--disable-sigusr1');
}

/** Whether Node's flags open the inspector at start. */
export function opensInspector(options: string[]): boolean {
  return options.some((option) => /^--inspect(-brk|-wait)?$/.test(splitOption(option)[0]));
}

function splitOption(option: string): [string, string | undefined] {
  const equals = option.indexOf('=');
  return equals < 0 ? [option, undefined] : [option.slice(0, equals), option.slice(equals + 1)];
}

/** NODE_OPTIONS in the text of /proc/PID/environ, split as Node splits it (on spaces, double quotes kept together). */
export function nodeOptionsFromEnviron(environ: string): string[] {
  const entry = environ.split('\0').find((item) => item.startsWith('NODE_OPTIONS='));
  if (!entry) return [];
  return [...entry.slice('NODE_OPTIONS='.length).matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/** A /proc file's text, or null when it cannot be read (gone, another user's, no /proc). */
export function readProc(pid: number, name: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return null;
  }
}

/** The process's command line, or null. */
export function readCmdline(pid: number): string[] | null {
  const text = readProc(pid, 'cmdline');
  return text === null ? null : text.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
}

/** The inodes of the process's open sockets. */
export function readSocketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const inode = socketInode(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (inode !== null) inodes.add(inode);
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  return inodes;
}

/** Every listening TCP socket in the process's network namespace. */
export function readListeningSockets(pid: number): ListeningSocket[] {
  return ['net/tcp', 'net/tcp6'].flatMap((name) => parseListeningSockets(readProc(pid, name) ?? ''));
}

/** The listening TCP sockets the process itself holds. */
export function readOwnListeningSockets(pid: number): ListeningSocket[] {
  const own = readSocketInodes(pid);
  return readListeningSockets(pid).filter((socket) => own.has(socket.inode));
}
