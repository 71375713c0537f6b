/**
 * The shape every measurement module hands back to the runner: a table to print, the same
 * figures as data for `bench/results/latest.json`, and the targets it can judge.
 */

export interface BenchConfig {
  /** The CI variant: fewer and shorter runs, same code paths. */
  quick: boolean;
  /** Progress lines, printed to stderr so the tables stay clean on stdout. */
  log(message: string): void;
}

/** A target from the project's goals, with the figure this run measured for it. */
export interface TargetCheck {
  target: string;
  figure: string;
  /** null when this run could not measure it (for example the bundle was not built). */
  met: boolean | null;
}

export interface Section {
  id: string;
  title: string;
  headers: string[];
  rows: string[][];
  /** Lines printed under the table: method, caveats. */
  notes: string[];
  targets: TargetCheck[];
  data: unknown;
}

export type Measurement = (config: BenchConfig) => Promise<Section>;
