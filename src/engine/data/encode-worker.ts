// A worker thread of the encoding pool (encode-pool.ts): loads the model directory's tokenizer
// once, then encodes the groups of examples (or texts, for packed language modelling) it is sent,
// with the same ExampleEncoder the main thread would use, and sends the results back (token arrays
// transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from '../tokenizers/index.js';
import { ExampleEncoder, type EncodeSpec } from './encode.js';
import type { TokenExample } from './batches.js';
import type { Example, RowProblem } from './types.js';

export interface WorkerInit {
  modelDir: string;
  spec: EncodeSpec;
}

export type WorkerJob = { id: number; examples: Example[] } | { id: number; texts: string[] };
export type WorkerResult = { id: number; encoded?: (TokenExample | RowProblem)[]; ids?: Int32Array[]; error?: string };

/** The typed arrays of encoded examples, for transfer. */
function buffersOf(out: (TokenExample | RowProblem)[]): ArrayBuffer[] {
  const bufs: ArrayBuffer[] = [];
  for (const e of out) {
    if ('reason' in e) continue;
    for (const a of [e.ids, e.typeIds, e.tokenLabels, e.target, e.decoderIds, e.pixels]) if (a) bufs.push(a.buffer as ArrayBuffer);
  }
  return bufs;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  const encoder = new ExampleEncoder(await loadTokenizer(init.modelDir), init.spec);
  port.on('message', (job: WorkerJob) => {
    try {
      if ('texts' in job) {
        const ids = job.texts.map((t) => encoder.text(t, false));
        port.postMessage({ id: job.id, ids } satisfies WorkerResult, ids.map((a) => a.buffer as ArrayBuffer));
      } else {
        const encoded = encoder.encode(job.examples);
        port.postMessage({ id: job.id, encoded } satisfies WorkerResult, buffersOf(encoded));
      }
    } catch (e) {
      port.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerResult);
    }
  });
  port.postMessage({ id: -1 } satisfies WorkerResult);
}

await main();
