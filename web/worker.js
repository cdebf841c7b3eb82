// Training in a Web Worker: fetches MNIST from nn serve, trains epoch by epoch with the engine,
// reports each epoch, stops and continues on request, and hands back the trained model.

import { loadEngine } from './engine.js';

const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

let stopRequested = false;
let resume = null;

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error; } catch { /* not JSON */ }
    throw new Error(`${url}: ${message}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

async function start(s, wasmUrl) {
  postMessage({ type: 'status', text: 'loading the engine and MNIST…' });
  const engine = await loadEngine(wasmUrl);
  const bytes = await Promise.all(FILES.map((f) => fetchBytes(`/data/${f}.gz`)));
  const full = engine.dataFromIdx(bytes[0], bytes[1]);
  const test = engine.dataFromIdx(bytes[2], bytes[3]);
  const train = full.slice(0, Math.min(s.trainSize, 50000));
  const validation = full.slice(50000, Math.min(full.length, 60000));
  const monitored = train.slice(0, Math.min(train.length, 10000));
  const net = engine.createNetwork({ sizes: s.sizes, cost: s.cost, seed: s.seed });
  const seconds = [];
  let epoch = 0;
  const run = async () => {
    while (epoch < s.epochs) {
      if (stopRequested) {
        stopRequested = false;
        postMessage({ type: 'stopped', epoch, model: net.toJson() });
        resume = run;
        return;
      }
      epoch += 1;
      const r = net.trainEpoch(train, {
        eta: s.eta, lambda: s.lambda, miniBatch: s.miniBatch, epoch, seed: s.seed,
        dropout: s.dropout, expand: s.expand, trainingSize: train.length,
      });
      seconds.push(r.seconds);
      postMessage({
        type: 'epoch', epoch, seconds: r.seconds,
        validation: net.evaluate(validation), training: net.evaluate(monitored),
      });
      await nextTurn(); // lets a stop request in
    }
    const secondsPerEpoch = seconds.reduce((a, b) => a + b, 0) / seconds.length;
    postMessage({ type: 'done', epochs: epoch, secondsPerEpoch, test: net.evaluate(test),
      model: net.toJson() });
  };
  await run();
}

onmessage = ({ data: m }) => {
  const fail = (e) => postMessage({ type: 'error', message: e.message ?? String(e) });
  if (m.type === 'start') {
    start(m.settings, m.wasm).catch(fail);
  } else if (m.type === 'stop') {
    stopRequested = true;
  } else if (m.type === 'continue' && resume) {
    const go = resume;
    resume = null;
    go().catch(fail);
  }
};
