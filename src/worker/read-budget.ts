/**
 * How much of the main thread's time the monitor's reads may take: a token bucket of milliseconds of main-thread
 * time, refilled at `share` of the wall clock and holding at most `burstMs`. A read may start while the balance is
 * not negative; what it really cost is taken afterwards, so one expensive read puts the balance in debt and the
 * reads after it wait until the debt is paid off. Over any stretch of T ms the reads take at most
 * `burstMs + share * T` plus the cost of the last read.
 */

/** The monitor's reads take at most this share of the main thread's time, whoever asks and however often. */
export const READ_SHARE = 0.05;
/** How much main-thread time reads may take at once after a quiet while, in ms. */
export const READ_BURST_MS = 20;

/** The state of a budget: its balance in ms of main-thread time at a moment. */
export interface BudgetState {
  balanceMs: number;
  /** When the balance was last brought up to date, in ms on any monotonic clock. */
  at: number;
}

/** The rules of a budget. */
export interface BudgetRules {
  share: number;
  burstMs: number;
}

/** The default rules: READ_SHARE refilled, READ_BURST_MS at most. */
export const READ_RULES: BudgetRules = { share: READ_SHARE, burstMs: READ_BURST_MS };

/** A full budget at `now`. */
export function fullBudget(now: number, rules: BudgetRules = READ_RULES): BudgetState {
  return { balanceMs: rules.burstMs, at: now };
}

/** The budget at `now`, refilled for the time since it was last brought up to date. */
export function refill(state: BudgetState, now: number, rules: BudgetRules = READ_RULES): BudgetState {
  const elapsed = Math.max(0, now - state.at);
  return { balanceMs: Math.min(rules.burstMs, state.balanceMs + elapsed * rules.share), at: Math.max(now, state.at) };
}

/** How long a read must wait at `now` before it may start, in ms: 0 when the balance is not negative. */
export function waitMs(state: BudgetState, now: number, rules: BudgetRules = READ_RULES): number {
  const { balanceMs } = refill(state, now, rules);
  return balanceMs >= 0 ? 0 : -balanceMs / rules.share;
}

/** The budget after a read that cost `costMs` of main-thread time (a negative cost gives back an overestimate). */
export function spend(state: BudgetState, now: number, costMs: number, rules: BudgetRules = READ_RULES): BudgetState {
  const current = refill(state, now, rules);
  return { balanceMs: Math.min(rules.burstMs, current.balanceMs - costMs), at: current.at };
}
