import { BUILTIN_NAMES, type CustomCommandSpec, type OptionSpec } from '../shared/command-spec';

/** How an app describes a custom command to `defineCommand`. */
export interface CommandDefinition {
  /** What the user types: a lowercase word of letters, digits, `-` and `_`. */
  name: string;
  aliases?: string[];
  /** One line for `help`. */
  description: string;
  /** Positional arguments; a name in brackets is optional, e.g. ['USER', '[LIMIT]']. */
  args?: string[];
  /** Options by long name, as the built-in commands take them. */
  options?: Record<string, OptionSpec>;
}

const WORD = /^[a-z][a-z0-9_-]{0,39}$/;
const ARG = /^(\[[A-Za-z][\w-]*\]|[A-Za-z][\w-]*)$/;
// Every custom command takes these from the monitor itself.
const MONITOR_OPTIONS = new Set(['help', 'json']);

function fail(message: string): never {
  throw new TypeError(`defineCommand: ${message}`);
}

function checkWord(word: unknown, what: string): string {
  if (typeof word !== 'string' || !WORD.test(word)) {
    fail(`${what} ${JSON.stringify(word)} must be a lowercase word of letters, digits, - and _ (up to 40), such as "flush-cache"`);
  }
  if (BUILTIN_NAMES.includes(word)) fail(`${JSON.stringify(word)} is a built-in command of the monitor; choose another ${what}`);
  return word;
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string' || text.trim() === '' || /[\r\n]/.test(text)) fail(`${what} must be one line of text`);
  return text;
}

function checkArgs(args: unknown, name: string): string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) fail(`args of ${name} must be an array of names, such as ['USER', '[LIMIT]']`);
  let optionalSeen = false;
  for (const arg of args) {
    if (typeof arg !== 'string' || !ARG.test(arg)) fail(`argument ${JSON.stringify(arg)} of ${name} must be a word, in brackets if optional, such as 'USER' or '[LIMIT]'`);
    if (arg.startsWith('[')) optionalSeen = true;
    else if (optionalSeen) fail(`required argument ${arg} of ${name} comes after an optional one; put the optional ones last`);
  }
  return [...args];
}

function checkOption(key: string, spec: unknown, name: string): OptionSpec {
  const where = `option --${key} of ${name}`;
  if (!WORD.test(key)) fail(`${where}: the name must be a lowercase word of letters, digits, - and _`);
  if (MONITOR_OPTIONS.has(key)) fail(`${where}: --${key} is given to every command by the monitor; choose another name`);
  if (typeof spec !== 'object' || spec === null) fail(`${where} must be an object such as { type: 'boolean', description: '...' }`);
  const { type, alias, value, description } = spec as Partial<OptionSpec>;
  if (type !== 'string' && type !== 'boolean') fail(`${where}: type must be 'string' or 'boolean'`);
  if (alias !== undefined && (typeof alias !== 'string' || !/^[a-zA-Z]$/.test(alias) || alias === 'h')) {
    fail(`${where}: alias must be one letter other than h (which is -h for --help)`);
  }
  if (value !== undefined && (typeof value !== 'string' || !/^[A-Za-z][\w-]*$/.test(value))) fail(`${where}: value must be a placeholder word such as 'TEXT'`);
  const checked: OptionSpec = { type, description: checkText(description, `the description of ${where}`) };
  if (alias !== undefined) checked.alias = alias;
  if (value !== undefined) checked.value = value;
  return checked;
}

function checkOptions(options: unknown, name: string): Record<string, OptionSpec> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail(`options of ${name} must be an object of option specs by long name`);
  const checked: Record<string, OptionSpec> = {};
  const aliases = new Set<string>();
  for (const [key, spec] of Object.entries(options)) {
    checked[key] = checkOption(key, spec, name);
    const alias = checked[key].alias;
    if (alias && aliases.has(alias)) fail(`two options of ${name} share the alias -${alias}`);
    if (alias) aliases.add(alias);
  }
  return checked;
}

/** Checks what the app passed to `defineCommand` and returns it complete, or throws a one-line TypeError. */
export function checkDefinition(definition: unknown, handler: unknown): CustomCommandSpec {
  if (typeof definition !== 'object' || definition === null) fail('the first argument must be an object such as { name, description }');
  const given = definition as Partial<CommandDefinition>;
  const name = checkWord(given.name, 'name');
  const description = checkText(given.description, `the description of ${name}`);
  if (given.aliases !== undefined && !Array.isArray(given.aliases)) fail(`aliases of ${name} must be an array of words`);
  const aliases = (given.aliases ?? []).map((alias) => checkWord(alias, 'alias'));
  if (new Set([name, ...aliases]).size !== aliases.length + 1) fail(`${name} lists the same name twice among its name and aliases`);
  if (typeof handler !== 'function') fail(`the handler of ${name} must be a function that takes { args, flags }`);
  return { name, aliases, description, args: checkArgs(given.args, name), options: checkOptions(given.options, name) };
}
