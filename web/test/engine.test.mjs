// The wasm engine (web/pkg/nn_wasm.wasm, built by scripts/build-web) under Node's test runner,
// against the native engine: crates/nn-wasm/examples/native_reference.rs, which trains through
// nn-train's Run (the path of `nn train`) on one thread and prints its figures as JSON.
// Run: scripts/build-web && node --test web/test/   (MNIST from MNIST_DIR or ../shared/data/mnist)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadEngine } from '../engine.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wasm = join(root, 'web', 'pkg', 'nn_wasm.wasm');
const mnist = process.env.MNIST_DIR ?? join(root, '..', 'shared', 'data', 'mnist');
const TRAIN = 1000;
const TEST = 500;
const SEED = 1;

assert.ok(existsSync(wasm), `${wasm} is missing: run scripts/build-web first`);
const engine = await loadEngine(readFileSync(wasm));
const file = (name) => readFileSync(join(mnist, name));
const training = engine.dataFromIdx(file('train-images-idx3-ubyte.gz'), file('train-labels-idx1-ubyte.gz'));
const testing = engine.dataFromIdx(file('t10k-images-idx3-ubyte.gz'), file('t10k-labels-idx1-ubyte.gz'));
const train = training.slice(0, TRAIN);
const tests = testing.slice(0, TEST);

// The test images' pixels in [0, 1], read here from the IDX file for `predict`.
const testPixels = (() => {
  const bytes = gunzipSync(file('t10k-images-idx3-ubyte.gz'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0), 0x803, 'an IDX file of unsigned bytes in 3 dimensions');
  const side = view.getUint32(8) * view.getUint32(12);
  return Array.from({ length: TEST }, (_, i) =>
    Float32Array.from(bytes.subarray(16 + i * side, 16 + (i + 1) * side), (p) => p / 255));
})();

const argmax = (values) => values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
const predictions = (net) => testPixels.map((pixels) => argmax(net.predict(pixels)));

const native = JSON.parse(execFileSync('cargo', ['run', '--release', '--quiet', '-p', 'nn-wasm',
  '--example', 'native_reference', '--', `${TRAIN}`, `${TEST}`, `${SEED}`],
{ cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 }));

const book = { sizes: [784, 30, 10], cost: 'cross-entropy', hidden: 'sigmoid', init: 'default' };
const epochOptions = { eta: 0.5, lambda: 5.0, miniBatch: 10, epoch: 1, seed: SEED, dropout: 0,
  expand: false, trainingSize: TRAIN };

// Costs within float rounding: f32 sums over 500 examples of 10 outputs each.
const assertClose = (got, expected, what) => assert.ok(
  Math.abs(got - expected) <= 1e-5 * Math.abs(expected), `${what}: wasm ${got}, native ${expected}`);

test('the engine runs its SIMD128 kernel', () => {
  assert.equal(engine.kernel, 'simd128');
});

test('a forward pass gives the native engine\'s predictions and cost', () => {
  const net = engine.createNetwork({ ...book, seed: SEED });
  assert.deepEqual(net.sizes, [784, 30, 10]);
  assert.deepEqual(predictions(net), native.before.predictions);
  assertClose(net.evaluate(tests).cost, native.before.cost, 'cost before training');
  net.free();
});

test('one epoch gives the native engine\'s predictions and cost', () => {
  const net = engine.createNetwork({ ...book, seed: SEED });
  const { seconds } = net.trainEpoch(train, epochOptions);
  assert.ok(seconds > 0);
  const after = predictions(net);
  assert.deepEqual(after, native.after.predictions);
  const { accuracy, cost } = net.evaluate(tests);
  assertClose(cost, native.after.cost, 'cost after one epoch');
  assert.equal(accuracy, native.after.accuracy);
  // The epoch changed the network (the comparison above is not of two untrained networks).
  assert.notDeepEqual(after, native.before.predictions);
  // A network saved here is one the engine reads back to the same outputs.
  const again = engine.networkFromJson(net.toJson());
  assert.deepEqual(predictions(again), after);
  again.free();
  net.free();
});

test('another seed gives other predictions (the comparison can fail)', () => {
  const net = engine.createNetwork({ ...book, seed: SEED + 1 });
  net.trainEpoch(train, { ...epochOptions, seed: SEED + 1 });
  assert.notDeepEqual(predictions(net), native.after.predictions);
  assert.notEqual(net.evaluate(tests).cost, native.after.cost);
  net.free();
});

test('bad input gives an Error with a message, and the engine goes on', () => {
  const net = engine.createNetwork({ ...book, seed: SEED });
  const refusals = [
    [() => engine.createNetwork({ sizes: [784, 0, 10] }), /layers/],
    [() => engine.createNetwork({ cost: 'entropy' }), /unknown variant/],
    [() => engine.createNetwork({ sizes: [784, 30, 10], speed: 3 }), /unknown field/],
    [() => engine.networkFromJson('{"sizes": [2, '), /bad model/],
    [() => engine.networkFromJson('{"sizes":[2,1],"weights":[[[1]]],"biases":[[[0]]],"cost":"CrossEntropyCost"}'), /bad model/],
    [() => engine.dataFromIdx(new Uint8Array([0, 0, 8, 3, 0]), new Uint8Array(0)), /images file/],
    [() => engine.dataFromIdx(file('t10k-images-idx3-ubyte.gz'), file('train-labels-idx1-ubyte.gz')), /./],
    [() => engine.dataFromIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), new Uint8Array(0)), /./],
    [() => net.predict(new Float32Array(783)), /783 pixels/],
    [() => net.trainEpoch(train, { ...epochOptions, epoch: 2 }), /next is 1/],
    [() => net.trainEpoch(train, { ...epochOptions, trainingSize: 50 }), /trainingSize/],
    [() => net.trainEpoch(train, { ...epochOptions, eta: -1 }), /eta/i],
    [() => net.trainEpoch(train, '{'), /bad options/],
    [() => train.slice(10, 5), /slice/],
    [() => engine.preparePicture(new Uint8ClampedArray(10), 2, 2), /RGBA/],
    [() => engine.preparePicture(new Uint8ClampedArray(16), 2, 2), /no digit/],
    [() => engine.neuron({ w: 0.6, b: 0.9, eta: 0.15, cost: 'log-likelihood', epochs: 3 }), /sigmoid/],
    [() => engine.softmax([], 1), /softmax of 0/],
  ];
  for (const [call, message] of refusals) {
    assert.throws(call, (e) => e instanceof Error && message.test(e.message) && e.message.length > 0);
  }
  const freed = engine.createNetwork(book);
  freed.free();
  assert.throws(() => freed.predict(testPixels[0]), /freed/);
  // Still working after every refusal.
  assert.deepEqual(predictions(net), native.before.predictions);
  net.free();
});

test('a drawn stroke is prepared as MNIST\'s digits: bright ink centred on black', () => {
  const [w, h] = [280, 200];
  const rgba = new Uint8ClampedArray(w * h * 4).fill(255); // white paper
  for (let y = 30; y < 170; y++) {
    for (let x = 40; x < 60; x++) rgba.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3); // black ink
  }
  const digit = engine.preparePicture(rgba, w, h);
  assert.equal(digit.length, 784);
  assert.equal(digit[0], 0);
  assert.ok(digit[14 * 28 + 14] > 0.8, 'ink at the centre, however far left it was drawn');
  const rows = Array.from({ length: 28 }, (_, y) => digit[y * 28 + 14]).filter((v) => v > 0.4).length;
  assert.ok(rows >= 18 && rows <= 21, `the stroke fills the 20-pixel box: ${rows}`);
});

test('the single neuron learns as the chapter computes it', () => {
  const sigmoid = (z) => 1 / (1 + Math.exp(-z));
  for (const cost of ['quadratic', 'cross-entropy']) {
    const { output, cost: c } = engine.neuron({ w: 0.6, b: 0.9, eta: 0.15, cost, epochs: 300 });
    assert.equal(output.length, 301);
    assert.ok(Math.abs(output[0] - sigmoid(1.5)) < 1e-6);
    // One gradient step by hand: ∂C/∂w = ∂C/∂b = a σ'(z) (quadratic) or a (cross-entropy).
    const a = sigmoid(1.5);
    const g = cost === 'quadratic' ? a * a * (1 - a) : a;
    assert.ok(Math.abs(output[1] - sigmoid(1.5 - 2 * 0.15 * g)) < 1e-6, `${cost}: ${output[1]}`);
    const expectedCost = cost === 'quadratic' ? a * a / 2 : -Math.log(1 - a);
    assert.ok(Math.abs(c[0] - expectedCost) < 1e-5, `${cost} cost ${c[0]}`);
    assert.ok(output[300] < output[0] && c[300] < c[0]);
  }
});

test('softmax is e^{c z_j} / sum_k e^{c z_k}', () => {
  const z = [1, 2, 3, 4];
  for (const c of [1, 0.5, 5]) {
    const a = engine.softmax(Float32Array.from(z), c);
    const sum = z.reduce((s, v) => s + Math.exp(c * v), 0);
    z.forEach((v, j) => assert.ok(Math.abs(a[j] - Math.exp(c * v) / sum) < 1e-6));
  }
});
