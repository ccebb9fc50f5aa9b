export { startMonitor, Monitor, type MonitorAddress } from './monitor';
export { MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT, WEB_PORT, MAX_TERMINATION_HISTORY, ConfigError, type MonitorOptions } from '../shared/config';
export { task, track, type TaskOptions, type TrackOptions } from './named-tasks';
export { defineCommand, type CommandHandler, type HandlerInput } from './custom-commands';
export type { CommandDefinition } from './command-definition';
export type { CommandInput, OptionSpec } from '../shared/command-spec';
