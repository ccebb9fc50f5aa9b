import { requireCompiled } from './src/main/code-cache';
import type * as Preload from './src/main/preload';

requireCompiled<typeof Preload>('./preload.js').startFromEnvironment();
