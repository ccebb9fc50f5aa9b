import { ago } from '../shared/text';
import type { TraceSwitch } from '../shared/rows';
import { command, UsageError } from './types';

function switched({ on, changed }: TraceSwitch): string {
  if (on) return changed ? 'tracing on: where ID shows the creation chain of tasks created from now on' : 'tracing is already on: where ID shows the creation chain of tasks created since it was switched on';
  return changed ? 'tracing off: new tasks are no longer traced; chains already recorded stay' : 'tracing is already off';
}

/** `trace [on|off]`: switches the recording of creation chains that `where` prints, or says whether it is on. */
export const trace = command({
  name: 'trace',
  description: 'Record where new tasks are created, for where ID (trace on / trace off; costs throughput while on)',
  args: ['[on|off]'],
  async run(ctx, { args: [word] }) {
    if (word === 'on' || word === 'off') {
      ctx.print(`✓ ${switched(await ctx.main.call('trace', word === 'on'))}`);
      return;
    }
    if (word !== undefined) throw new UsageError(`${JSON.stringify(word)} is not on or off; type trace on, trace off, or trace to see whether it is on`);
    const { on, since } = await ctx.main.read('tracing');
    ctx.print(on
      ? `tracing is on since ${ago(since ?? Date.now())}: where ID shows the creation chain of tasks created since then`
      : 'tracing is off: trace on records where new tasks are created, for where ID');
  },
});
