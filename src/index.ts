export { startMonitor, Monitor, type MonitorAddress } from './monitor';
export { MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT, MAX_TERMINATION_HISTORY, ConfigError, type MonitorOptions } from './config';
export { task, type TaskOptions } from './main/named-tasks';
