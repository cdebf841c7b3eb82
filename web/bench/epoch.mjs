// One epoch of the book's 784,30,10 network (cross-entropy, η 0.5, λ 5, mini-batch 10) on
// MNIST's first 50,000 training images, in the wasm engine under Node (V8, as in Chromium) and
// in the native engine on one thread (crates/nn-wasm/examples/native_reference.rs, nn-train's
// Run), side by side in one run; prints both times and their ratio.
// Run: scripts/build-web && node web/bench/epoch.mjs   (MNIST from MNIST_DIR or ../shared/data/mnist)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadEngine } from '../engine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mnist = process.env.MNIST_DIR ?? join(root, '..', 'shared', 'data', 'mnist');
const IMAGES = 50000;
const SEED = 1;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const engine = await loadEngine(readFileSync(join(root, 'web', 'pkg', 'nn_wasm.wasm')));
const file = (name) => readFileSync(join(mnist, name));
const all = engine.dataFromIdx(file('train-images-idx3-ubyte.gz'), file('train-labels-idx1-ubyte.gz'));
const train = all.slice(0, IMAGES);

const wasmEpoch = () => {
  const net = engine.createNetwork({ sizes: [784, 30, 10], cost: 'cross-entropy', seed: SEED });
  const { seconds } = net.trainEpoch(train, { eta: 0.5, lambda: 5.0, miniBatch: 10, epoch: 1,
    seed: SEED, dropout: 0, expand: false, trainingSize: IMAGES });
  net.free();
  return seconds;
};
const nativeEpoch = () => JSON.parse(execFileSync('cargo', ['run', '--release', '--quiet',
  '-p', 'nn-wasm', '--example', 'native_reference', '--', `${IMAGES}`, '1', `${SEED}`],
{ cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 })).seconds;

// Alternating rounds, so that both see the same load of the machine; the best of each.
const wasm = [];
const native = [];
for (let round = 0; round < ROUNDS; round++) {
  native.push(nativeEpoch());
  wasm.push(wasmEpoch());
}
const best = (times) => Math.min(...times);
console.log(`kernel in wasm: ${engine.kernel}`);
console.log(`native, one thread: ${native.map((s) => s.toFixed(3)).join(' ')} s (best ${best(native).toFixed(3)})`);
console.log(`wasm (Node ${process.version}): ${wasm.map((s) => s.toFixed(3)).join(' ')} s (best ${best(wasm).toFixed(3)})`);
console.log(`ratio wasm / native: ${(best(wasm) / best(native)).toFixed(2)}`);
