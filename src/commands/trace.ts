import { ago } from '../shared/text';
import { command, UsageError } from './types';

/** `trace [on|off]`: switches the recording of creation chains that `where` prints, or says whether it is on. */
export const trace = command({
  name: 'trace',
  description: 'Record where new tasks are created, for where ID (trace on / trace off; costs throughput while on)',
  args: ['[on|off]'],
  async run(ctx, { args: [word] }) {
    if (word === 'on' || word === 'off') {
      ctx.print(await ctx.main.call<string>('trace', word === 'on'));
      return;
    }
    if (word !== undefined) throw new UsageError(`${JSON.stringify(word)} is not on or off; type trace on, trace off, or trace to see whether it is on`);
    const { on, since } = await ctx.main.query<{ on: boolean; since: number | null }>('tracing()');
    ctx.print(on
      ? `tracing is on since ${ago(since ?? Date.now())}: where ID shows the creation chain of tasks created since then`
      : 'tracing is off: trace on records where new tasks are created, for where ID');
  },
});
