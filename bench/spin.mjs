// The app behind the stacktrace measurement: idle until a line "spin MS" arrives on stdin, then it
// blocks its event loop for MS milliseconds in `spinFor`, printing "spinning" before and "done" after.
// stdout is a pipe, which Node writes synchronously on Linux, so "spinning" arrives while it spins.
import readline from 'node:readline';

function spinFor(ms) {
  const until = Date.now() + ms;
  let sum = 0;
  while (Date.now() < until) sum += Math.sqrt(sum + 1);
  return sum;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const match = /^spin (\d+)$/.exec(line.trim());
  if (!match) return;
  console.log('spinning');
  spinFor(Number(match[1]));
  console.log('done');
});
console.log('ready');
