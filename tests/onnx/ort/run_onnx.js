// Runs ONNX models in ONNX Runtime (CPU) on float32 tensors, for quicksr's C++ tests.
//   node run_onnx.js RUNS.tsv
// Each line of RUNS.tsv is one run: MODEL.onnx INPUT.f32 C H W OUTPUT.f32 (tab-separated).
// INPUT.f32 holds 1 x C x H x W little-endian float32 values; OUTPUT.f32 receives the first
// output's values and stdout one line per run with its dimensions as JSON. One process for all
// runs: starting node and loading onnxruntime-node cost more than a small run.
// Exit code 1 with a message on any error.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function run(model, inputFile, c, h, w, outputFile) {
  const dims = [1, Number(c), Number(h), Number(w)];
  const bytes = fs.readFileSync(inputFile);
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4) {
    throw new Error(`${inputFile}: ${bytes.length} bytes, expected ${count * 4}`);
  }
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, count);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, dims)};
  const result = await session.run(feeds);
  const output = result[session.outputNames[0]];
  fs.writeFileSync(outputFile, Buffer.from(output.data.buffer, output.data.byteOffset,
                                           output.data.byteLength));
  return JSON.stringify(output.dims);
}

async function main(argv) {
  if (argv.length !== 1) throw new Error('usage: node run_onnx.js RUNS.tsv');
  const lines = fs.readFileSync(argv[0], 'utf8').split('\n').filter((line) => line !== '');
  for (const line of lines) {
    const fields = line.split('\t');
    if (fields.length !== 6) throw new Error(`${argv[0]}: expected 6 fields in "${line}"`);
    process.stdout.write(await run(...fields) + '\n');
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`run_onnx.js: ${error.message}\n`);
  process.exit(1);
});
