import { startFromEnvironment } from './src/preload';

startFromEnvironment();
