import type yargsParser from 'yargs-parser';

/**
 * yargs-parser settings for the bins: every argument stays the exact string typed (no numbers, no dot paths, no
 * `--no-x` negation, no camelCase copies, no short-option groups), so that what reaches a script or the monitor
 * is what the user wrote.
 */
export const LITERAL_ARGS: Partial<yargsParser.Configuration> = {
  'boolean-negation': false,
  'camel-case-expansion': false,
  'dot-notation': false,
  'duplicate-arguments-array': false,
  'parse-numbers': false,
  'parse-positional-numbers': false,
  'short-option-groups': false,
  'strip-aliased': true,
};
