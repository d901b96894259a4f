// A paper's reproduction, as data (configs/papers/<paper>/reproduce.json): which recipes each
// scale runs, the paper's numbers for the full-size rows, and the findings the small scale tests.
// Read by src/recipes/reproduce.ts, compared with measured runs by src/engine/report/paper.ts.

export interface PaperTableRow {
  /** The recipe file of the row (relative to the paper's folder). */
  recipe: string;
  table: string;
  /** Our metric key (accuracy, rouge2, …) and the paper's value of it. */
  metric: string;
  paper: number;
  /** "% params" as the paper prints it. */
  params: string;
  /** Ours × scale is the paper's unit (100: peft reports accuracy and ROUGE in [0, 1]). */
  scale?: number;
}

export interface PaperFinding {
  finding: string;
  /** Method names (the small scale's `methods`): the paper finds `better` beats `worse`. */
  better: string;
  worse: string;
  /** The paper's evidence, as it prints it. */
  paper: string;
}

export interface SmallScale {
  about: string;
  /** Task name → the metric compared and its direction. */
  tasks: Record<string, { metric: string; mode: 'min' | 'max'; title: string }>;
  methods: string[];
  /** `small/{task}-{method}.yaml`. */
  recipe: string;
  seeds: number[];
}

export interface PaperManifest {
  paper: string;
  scales: {
    full?: { about: string; recipes: string[]; seeds: number[] };
    small?: SmallScale;
  };
  findings: PaperFinding[];
  table: PaperTableRow[];
}
