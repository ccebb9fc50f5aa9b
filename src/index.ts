export { startMonitor, Monitor, type MonitorAddress } from './monitor';
export { MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT, MAX_TERMINATION_HISTORY, ConfigError, type MonitorOptions } from './config';
export { task, track, type TaskOptions, type TrackOptions } from './main/named-tasks';
export { defineCommand, type CommandHandler, type HandlerInput } from './main/custom-commands';
export type { CommandDefinition } from './main/command-definition';
export type { CommandInput, OptionSpec } from './commands/types';
