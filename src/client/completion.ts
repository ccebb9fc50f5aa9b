/** An option of a command, as `help --json` lists it. */
export interface CatalogOption {
  name: string;
  alias: string | null;
  takesValue: boolean;
}

/** A command as `help --json` lists it: what completion needs to know. */
export interface CatalogCommand {
  name: string;
  aliases: string[];
  options: CatalogOption[];
  args: string[];
  /** The command whose --json lists the IDs of the ID argument (`ps` for `where`), or null. */
  idsFrom: string | null;
  description: string;
}

/** What Tab offers: the candidates for `word`, the end of the line; `wantsIds` names the command that lists the IDs that would be, when none were given. */
export interface Completion {
  candidates: string[];
  word: string;
  wantsIds: string | null;
}

/** Every command accepts --help (the monitor's dispatcher adds it). */
const HELP_OPTION: CatalogOption = { name: 'help', alias: 'h', takesValue: false };

function matching(words: Iterable<string>, prefix: string): string[] {
  return [...new Set(words)].filter((word) => word.startsWith(prefix)).sort();
}

function findOption(options: CatalogOption[], word: string): CatalogOption | undefined {
  const name = word.replace(/^--?/, '').split('=')[0];
  return options.find((option) => (word.startsWith('--') ? option.name === name : option.alias === name));
}

/** The literal choices of an argument written `[on|off]`, or none. */
function choices(arg: string): string[] {
  const match = /^\[?([\w-]+(?:\|[\w-]+)+)\]?$/.exec(arg);
  return match ? match[1].split('|') : [];
}

/**
 * Completes the line typed so far (up to the cursor): a command name or alias as the first word, then the
 * command's options after a '-', the choices of an argument such as `[on|off]`, or the IDs (`ids`, read from the
 * command `wantsIds` names) for an `ID` argument.
 */
export function completeLine(line: string, commands: readonly CatalogCommand[], ids?: readonly string[]): Completion {
  const words = line.trimStart().split(/\s+/);
  const word = words.pop() ?? '';
  const none: Completion = { candidates: [], word, wantsIds: null };
  if (words.length === 0) return { ...none, candidates: matching(commands.flatMap((cmd) => [cmd.name, ...cmd.aliases]), word) };
  const wanted = words[0].toLowerCase();
  const cmd = commands.find((each) => each.name === wanted || each.aliases.includes(wanted));
  if (!cmd) return none;
  const options = [...cmd.options, HELP_OPTION];
  if (word.startsWith('-')) {
    return { ...none, candidates: matching(options.flatMap((option) => [`--${option.name}`, ...(option.alias ? [`-${option.alias}`] : [])]), word) };
  }
  // Which positional argument the word is: options, and the values of those that take one, do not count.
  let position = 0;
  for (let index = 1; index < words.length; index += 1) {
    const typed = words[index];
    if (!typed.startsWith('-')) position += 1;
    else if (!typed.includes('=') && findOption(options, typed)?.takesValue) index += 1;
  }
  const previous = words.length > 1 ? words[words.length - 1] : '';
  if (previous.startsWith('-') && !previous.includes('=') && findOption(options, previous)?.takesValue) return none;
  const arg = cmd.args[position];
  if (arg === undefined) return none;
  if (/^\[?ID\]?$/.test(arg)) {
    if (!cmd.idsFrom) return none;
    if (!ids) return { ...none, wantsIds: cmd.idsFrom };
    return { ...none, candidates: matching(ids, word) };
  }
  return { ...none, candidates: matching(choices(arg), word) };
}

/** The IDs in a `ps`, `ps-terminated` or `blocks` JSON document (its `tasks` or `blocks`), or none when it is not one. */
export function idsOf(json: string): string[] {
  const line = json.split('\n').find((each) => each.startsWith('{'));
  try {
    const document = JSON.parse(line ?? '') as { tasks?: Array<{ id?: unknown }>; blocks?: Array<{ id?: unknown }> };
    return (document.tasks ?? document.blocks ?? []).map((row) => String(row.id));
  } catch {
    return [];
  }
}

/** The commands in a `help --json` document, or null when it is not one (a monitor from before `help --json`). */
export function catalogOf(helpJson: string): CatalogCommand[] | null {
  const line = helpJson.split('\n').find((each) => each.startsWith('{'));
  try {
    const document = JSON.parse(line ?? '') as { command?: string; commands?: CatalogCommand[] };
    return document.command === 'help' && Array.isArray(document.commands) ? document.commands : null;
  } catch {
    return null;
  }
}
