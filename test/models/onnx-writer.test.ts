import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../../src/models/onnx/graph-builder.js';
import { encodeModel } from '../../src/models/onnx/onnx-proto.js';
import { SeededRandom } from '../../src/models/onnx/prng.js';
import { encodeVarint, ProtoWriter } from '../../src/models/onnx/protobuf-writer.js';

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

describe('protobuf writer', () => {
  it('encodes varints like the protobuf spec', () => {
    expect([...encodeVarint(1n)]).toEqual([1]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    // A negative int64 takes ten bytes in two's complement.
    const negative = new ProtoWriter().int(1, -1).finish();
    expect(negative.length).toBe(11);
    expect(negative[10]).toBe(0x01);
  });
});

describe('ONNX writer', () => {
  it('writes a model onnxruntime loads and runs with the expected numbers', async () => {
    const g = new GraphBuilder('affine', 7);
    const x = g.input('x', 'float', ['batch_size', 3]);
    const w = g.constFloat([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = g.op('Add', [g.op('MatMul', [x, w]), g.constFloat([0.5, -0.5])]);
    const t = g.op('Transpose', [y], { perm: attr.ints([1, 0]) });
    const s = g.op('Softmax', [t], { axis: attr.int(0) });
    g.output('y', 'float', ['batch_size', 2], y);
    g.output('softmax_t', 'float', [2, 'batch_size'], s);
    const model = await session(encodeModel({ graph: g.build() }));

    expect(model.inputNames).toEqual(['x']);
    const out = await model.run({
      x: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0, 1, 1]), [2, 3]),
    });
    expect(out.y!.dims).toEqual([2, 2]);
    expect([...(out.y!.data as Float32Array)]).toEqual([1.5, 1.5, 8.5, 9.5]);
    const softmax = out.softmax_t!.data as Float32Array;
    expect(softmax[0]! + softmax[2]!).toBeCloseTo(1, 5); // columns of the transpose
  });

  it('writes int64, bool, float attributes and If subgraphs', async () => {
    const g = new GraphBuilder('branches', 1);
    const cond = g.input('cond', 'bool', [1]);
    const ids = g.input('ids', 'int64', ['n']);
    const table = g.constFloat([10, 20, 30], [3]);
    const thenG = g.subgraph('then');
    thenG.output('picked_then', 'float', undefined, thenG.op('Gather', [table, ids]));
    const elseG = g.subgraph('else');
    elseG.output(
      'picked_else',
      'float',
      undefined,
      elseG.op('Neg', [elseG.op('Gather', [table, ids])]),
    );
    g.opNamed('If', [cond], ['picked'], {
      then_branch: attr.graph(thenG.build()),
      else_branch: attr.graph(elseG.build()),
    });
    const normed = g.layerNorm(g.op('Unsqueeze', ['picked', g.constInt64([0])]), 'ln', 1);
    g.output('picked', 'float', ['n'], 'picked');
    g.output('normed', 'float', [1, 'n'], normed);
    const model = await session(encodeModel({ graph: g.build() }));

    const ids64 = new ort.Tensor('int64', BigInt64Array.from([2n, 0n]), [2]);
    const yes = await model.run({
      cond: new ort.Tensor('bool', Uint8Array.from([1]), [1]),
      ids: ids64,
    });
    const no = await model.run({
      cond: new ort.Tensor('bool', Uint8Array.from([0]), [1]),
      ids: ids64,
    });
    expect([...(yes.picked!.data as Float32Array)]).toEqual([30, 10]);
    expect([...(no.picked!.data as Float32Array)]).toEqual([-30, -10]);
  });

  it('draws the same weights from the same seed', () => {
    expect(new SeededRandom(5).normals(8, 1)).toEqual(new SeededRandom(5).normals(8, 1));
    expect(new SeededRandom(5).normals(8, 1)).not.toEqual(new SeededRandom(6).normals(8, 1));
  });
});
