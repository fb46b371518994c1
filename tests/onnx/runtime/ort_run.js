#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) on .npy feeds and
// writes each output as OUTDIR/NAME.npy: how the test checks that the models
// kiln exports run elsewhere, with the same outputs. With --repeat N it then
// times N more runs, each on its own, and prints their min/median/max in ms
// as bench/onnx_zoo.sh reads them (ORT at its best: --threads intra-op
// threads, graph optimizations all, spin-waiting unless --no-spin).
//
//   node ort_run.js [--threads T] [--repeat N] [--no-spin] MODEL.onnx OUTDIR NAME=FEED.npy...
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// .npy version 1-3, little-endian, C order: float32, float64, int32 or int64.
const kTypes = { '<f4': 'float32', '<f8': 'float64', '<i4': 'int32', '<i8': 'int64' };
const kArrays = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array };

function readNpy(file) {
  const bytes = fs.readFileSync(file);
  const major = bytes[6], headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12, header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr': *'([^']+)'/.exec(header)[1];
  if (!kTypes[descr] || /'fortran_order': *True/.test(header)) throw new Error(`${file}: ${header} is not supported`);
  const shape = /'shape': *\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  const type = kTypes[descr], data = bytes.subarray(start + headerLength);
  const array = new kArrays[type](data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  return new ort.Tensor(type, array, shape);
}

function writeNpy(file, tensor) {
  const descr = Object.keys(kTypes).find((k) => kTypes[k] === tensor.type);
  if (!descr) throw new Error(`${file}: output type ${tensor.type} is not supported`);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${tensor.dims.join(', ')}${tensor.dims.length === 1 ? ',' : ''}), }`;
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 11) + '\n'; // 64-byte aligned
  const prefix = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(prefix);
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const args = process.argv.slice(2), options = { threads: 0, repeat: 0, spin: true };
  while (args[0] && args[0].startsWith('--')) {
    const flag = args.shift();
    if (flag === '--no-spin') options.spin = false;
    else if (flag === '--threads' || flag === '--repeat') options[flag.slice(2)] = Number(args.shift());
    else throw new Error(`unknown option ${flag}`);
  }
  const [model, outDir, ...feedArgs] = args;
  const feeds = {};
  for (const arg of feedArgs) {
    const eq = arg.indexOf('=');
    feeds[arg.slice(0, eq)] = readNpy(arg.slice(eq + 1));
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential',
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    ...(options.spin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  const results = await session.run(feeds);
  if (options.repeat) {
    const ms = [];
    for (let i = 0; i < options.repeat; i++) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    ms.sort((a, b) => a - b);
    console.log(`ms min=${ms[0]} median=${ms[ms.length >> 1]} max=${ms[ms.length - 1]} n=${ms.length}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  // Named as kiln run names them: a "/" of a scope becomes "_".
  for (const [name, tensor] of Object.entries(results)) writeNpy(path.join(outDir, `${name.replace(/\//g, "_")}.npy`), tensor);
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
