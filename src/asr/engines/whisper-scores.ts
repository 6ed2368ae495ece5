/**
 * Whisper's scores read off the decoder's logits: the no-speech probability at
 * `<|startoftranscript|>` and the average log probability of the greedy tokens. Used by
 * `whisper-local.ts` to reject decodes of silence and noise.
 */
import { LogitsProcessor, Tensor } from '@huggingface/transformers';

export function tokenId(tokenizer: any, token: string): number | undefined {
  const id = tokenizer.convert_tokens_to_ids(token);
  return typeof id === 'number' ? id : undefined;
}

/** Softmax probability of `tokenIdx` at position `sotIndex` of each batch row. */
export function noSpeechProbs(logits: Tensor, sotIndex: number, tokenIdx: number): number[] {
  const [batch, length, vocab] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  const position = Math.min(sotIndex, length - 1);
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = data.subarray((b * length + position) * vocab, (b * length + position + 1) * vocab);
    out.push(Math.exp(row[tokenIdx]! - logSumExp(row)));
  }
  return out;
}

export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return max + Math.log(sum);
}

/** Sums the log probability of each row's chosen (greedy) token, step by step, until its EOS. */
export class LogprobObserver extends LogitsProcessor {
  sums: number[] = [];
  counts: number[] = [];

  constructor(private readonly eosId: number) {
    super();
  }

  override _call(inputIds: bigint[][], logits: Tensor): Tensor {
    const [batch, vocab] = [logits.dims[0]!, logits.dims.at(-1)!];
    const data = logits.data as Float32Array;
    for (let b = 0; b < batch; b++) {
      const row = inputIds[b]!;
      if (this.counts[b] !== undefined && Number(row.at(-1)) === this.eosId) continue;
      const values = data.subarray(b * vocab, (b + 1) * vocab);
      let max = -Infinity;
      for (let i = 0; i < vocab; i++) if (values[i]! > max) max = values[i]!;
      this.sums[b] = (this.sums[b] ?? 0) + (max - logSumExp(values));
      this.counts[b] = (this.counts[b] ?? 0) + 1;
    }
    return logits;
  }
}
