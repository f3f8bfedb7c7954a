// Types of cpu-budget.mjs for scripts/bench/run.ts.

/** utime and stime of a process, in clock ticks. */
export interface ProcTimes {
  utime: number;
  stime: number;
}
/** µs of CPU per request, user and system. */
export interface Measured {
  userUs: number;
  systemUs: number;
}
/** A frame of a V8 CPU profile. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}
/** A V8 CPU profile (.cpuprofile). */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas?: number[];
}
/** A module of an esbuild bundle: its first line (1-based) and source file. */
export interface BundleModule {
  firstLine: number;
  file: string;
}
/** µs per request in total, user, system and per category. */
export interface Budget {
  totalUs: number;
  userUs: number;
  systemUs: number;
  categories: Record<string, number>;
}

export declare const CLOCK_TICKS: number;
export declare const USER_CATEGORIES: readonly string[];
export declare const KERNEL_CATEGORIES: readonly string[];
export declare function parseProcStat(text: string): ProcTimes;
export declare class CpuMeter {
  constructor(pids: Record<string, number>, stat?: (pid: number) => string);
  start(): void;
  stop(): void;
  perRequest(requests: number): Record<string, Measured>;
}
export declare function bundleModules(bundleText: string): BundleModule[];
export declare function sourceOf(modules: readonly BundleModule[], line: number): string | undefined;
export declare function categoryOf(frame: CallFrame, modulesOf?: (url: string) => readonly BundleModule[] | undefined): string | undefined;
export declare function profileShares(profile: CpuProfile, modulesOf?: (url: string) => readonly BundleModule[] | undefined): Record<string, number>;
export declare function splitBudget(measured: Measured, shares: Record<string, number>): Budget;
export declare function budgetTables(budgets: readonly { op: string; process: string; budget: Budget }[]): string;
