// Beam search as transformers' BeamSearchScorer runs it. Each input has num_beams rows; at the
// start only its first beam is live (the others score −1e9). Every step: the log-softmax of each
// row's logits, processed (no repeated n-gram, no early eos), plus the row's running score; of
// the 2·num_beams best (beam, token) candidates of an input, in order, an eos candidate among the
// first num_beams becomes a finished hypothesis (scored at its length, eos included) and the
// others fill the next beams until there are num_beams. The rows (and the KV cache) are then
// reordered by the beam they continue. An input is done when its hypotheses cannot improve (see
// BeamHypotheses.isDone); at the end, the running beams of inputs not done join their lists, and
// the best hypotheses are returned, with their eos when they finished.
import { applyProcessors, logSoftmax, type ProcessorOptions } from './logits-processors.js';
import { BeamHypotheses } from './beam-hypotheses.js';
import type { Stepper } from './stepper.js';

export interface BeamOptions extends ProcessorOptions {
  numBeams: number;
  maxNewTokens: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  numReturnSequences: number;
  pad: number;
  onStep?(step: number, logits: readonly Float32Array[]): void;
}

interface Candidate {
  score: number;
  /** Row (within all rows) the candidate continues. */
  row: number;
  token: number;
}

/** The k best (score, then row, then token) candidates of one input's beams. */
function bestCandidates(scored: Float64Array[], beamScores: number[], rows: number[], k: number): Candidate[] {
  const best: Candidate[] = [];
  const better = (a: Candidate, b: Candidate) => a.score > b.score || (a.score === b.score && (a.row < b.row || (a.row === b.row && a.token < b.token)));
  for (const row of rows) {
    const s = scored[row];
    const base = beamScores[row];
    for (let v = 0; v < s.length; v++) {
      const score = base + s[v];
      if (best.length === k && score < best[k - 1].score) continue;
      const c = { score, row, token: v };
      if (best.length === k && !better(c, best[k - 1])) continue;
      let i = best.length === k ? k - 1 : best.length;
      if (best.length === k) best.pop();
      best.push(c);
      while (i > 0 && better(best[i], best[i - 1])) {
        [best[i], best[i - 1]] = [best[i - 1], best[i]];
        i--;
      }
    }
  }
  return best;
}

export function beamSearch(stepper: Stepper, o: BeamOptions): { sequences: number[][]; scores: number[] } {
  const nb = o.numBeams;
  const inputs = stepper.rows / nb;
  const hyps = Array.from({ length: inputs }, () => new BeamHypotheses(nb, o.lengthPenalty, o.earlyStopping, o.maxNewTokens));
  const done = new Array<boolean>(inputs).fill(false);
  let beamScores: number[] = Array.from({ length: stepper.rows }, (_, r) => (r % nb === 0 ? 0 : -1e9));
  let generated: number[][] = Array.from({ length: stepper.rows }, () => []);
  let logits = stepper.first();
  for (let step = 0; ; step++) {
    o.onStep?.(step, logits);
    const length = step + 1;
    const scored = logits.map((l, r) => {
      const s = logSoftmax(l);
      applyProcessors(s, stepper.context(r, step), o);
      return s;
    });
    const nextRows: number[] = [];
    const nextTokens: number[] = [];
    const nextScores: number[] = [];
    for (let b = 0; b < inputs; b++) {
      const own = Array.from({ length: nb }, (_, j) => b * nb + j);
      if (done[b]) {
        for (const r of own) {
          nextRows.push(r);
          nextTokens.push(o.pad);
          nextScores.push(0);
        }
        continue;
      }
      // transformers keeps (1 + number of eos ids) · num_beams candidates, at least 2 · num_beams
      const cands = bestCandidates(scored, beamScores, own, Math.max(2, 1 + o.eos.length) * nb);
      let filled = 0;
      for (let rank = 0; rank < cands.length && filled < nb; rank++) {
        const c = cands[rank];
        if (o.eos.includes(c.token)) {
          if (rank < nb) hyps[b].add([...generated[c.row]], c.score, length, true);
          continue;
        }
        nextRows.push(c.row);
        nextTokens.push(c.token);
        nextScores.push(c.score);
        filled++;
      }
      if (filled < nb) throw new Error(`beam search: fewer than ${nb} candidates that are not eos`);
      done[b] = hyps[b].isDone(cands[0].score, length);
    }
    generated = nextRows.map((r, i) => [...generated[r], nextTokens[i]]);
    beamScores = nextScores;
    if (done.every(Boolean) || length >= o.maxNewTokens) break;
    stepper.reorder(nextRows);
    logits = stepper.next(nextTokens);
  }
  const sequences: number[][] = [];
  const scores: number[] = [];
  for (let b = 0; b < inputs; b++) {
    if (!done[b]) for (let j = 0; j < nb; j++) hyps[b].add(generated[b * nb + j], beamScores[b * nb + j], generated[b * nb + j].length, false);
    for (const h of hyps[b].best(o.numReturnSequences)) {
      sequences.push(h.finished ? [...h.tokens, o.eos[0]] : h.tokens);
      scores.push(h.score);
    }
  }
  return { sequences, scores };
}
