import { startFromEnvironment } from './src/main/preload';

startFromEnvironment();
