// A reference preload for the memory measurement: the monitor's code loaded on the main thread
// through the package's main entry, but no monitor started, so no worker thread and no server.
require('../dist/src/main/index.js');
