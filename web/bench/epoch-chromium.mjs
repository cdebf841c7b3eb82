// Epochs of the book's 784,30,10 network (cross-entropy, η 0.5, λ 5, mini-batch 10) on MNIST's
// first 50,000 training images in headless Chromium, each round in a fresh browser and a Web
// Worker as on the page (so the first epoch includes V8's tier-up), alternating with the native
// engine on one thread (crates/nn-wasm/examples/native_reference.rs); prints every epoch, then
// the minimum and median of the first epochs, of the later ones and of the native ones.
// Run: scripts/build-web && node web/bench/epoch-chromium.mjs [MODULE.wasm ...]
//   (default web/pkg/nn_wasm.wasm; ROUNDS, default 3, and EPOCHS per round, default 3; Chromium
//   from CHROMIUM or /usr/bin/chromium; playwright-core from NODE_PATH or the page test's folder:
//   npm install in crates/nn-serve/tests/page; MNIST from MNIST_DIR or ../shared/data/mnist)

import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { chromium } = createRequire(join(root, 'crates/nn-serve/tests/page/package.json'))('playwright-core');
const mnist = process.env.MNIST_DIR ?? join(root, '..', 'shared', 'data', 'mnist');
const modules = process.argv.length > 2 ? process.argv.slice(2).map((m) => resolve(m))
  : [join(root, 'web', 'pkg', 'nn_wasm.wasm')];
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const EPOCHS = Number(process.env.EPOCHS ?? 3);

const page = `<!doctype html><meta charset="utf-8"><script type="module">
const worker = new Worker('/worker.js', { type: 'module' });
worker.onmessage = ({ data }) => { window.result = data; };
worker.onerror = (e) => { window.result = { error: e.message }; };
worker.postMessage(location.search.slice(1));
</script>`;
const worker = `import { loadEngine } from '/web/engine.js';
onmessage = async ({ data: module }) => {
  try {
    const engine = await loadEngine('/module/' + module);
    const get = async (name) => new Uint8Array(await (await fetch('/mnist/' + name)).arrayBuffer());
    const all = engine.dataFromIdx(await get('train-images-idx3-ubyte.gz'), await get('train-labels-idx1-ubyte.gz'));
    const train = all.slice(0, 50000);
    const net = engine.createNetwork({ sizes: [784, 30, 10], cost: 'cross-entropy', seed: 1 });
    const seconds = [];
    for (let epoch = 1; epoch <= ${EPOCHS}; epoch++) {
      seconds.push(net.trainEpoch(train, { eta: 0.5, lambda: 5.0, miniBatch: 10, epoch, seed: 1,
        dropout: 0, expand: false, trainingSize: 50000 }).seconds);
    }
    postMessage({ seconds, validation: net.evaluate(all.slice(50000, 60000)).accuracy });
  } catch (e) { postMessage({ error: String(e) }); }
};`;
const types = { js: 'text/javascript', wasm: 'application/wasm', html: 'text/html' };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  const send = (body, type) => { res.writeHead(200, { 'content-type': type }); res.end(body); };
  try {
    if (path === '/') send(page, types.html);
    else if (path === '/worker.js') send(worker, types.js);
    else if (path.startsWith('/web/')) send(readFileSync(join(root, 'web', path.slice(5))), types.js);
    else if (path.startsWith('/module/')) send(readFileSync(modules[Number(path.slice(8))]), types.wasm);
    else if (path.startsWith('/mnist/')) send(readFileSync(join(mnist, path.slice(7))), 'application/gzip');
    else { res.writeHead(404); res.end(); }
  } catch { res.writeHead(404); res.end(); }
}).listen(0, '127.0.0.1');
await new Promise((ready) => server.on('listening', ready));

const inChromium = async (module) => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update'] });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${server.address().port}/?${module}`);
    await tab.waitForFunction(() => window.result, null, { timeout: 600_000 });
    const result = await tab.evaluate(() => window.result);
    if (result.error) throw new Error(result.error);
    return result;
  } finally {
    await browser.close();
  }
};
const nativeEpoch = () => JSON.parse(execFileSync('cargo', ['run', '--release', '--quiet',
  '-p', 'nn-wasm', '--example', 'native_reference', '--', '50000', '1', '1'],
{ cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 })).seconds;

const native = [];
const first = modules.map(() => []);
const later = modules.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  native.push(nativeEpoch());
  for (const [i, module] of modules.entries()) {
    const { seconds, validation } = await inChromium(i);
    first[i].push(seconds[0]);
    later[i].push(...seconds.slice(1));
    console.log(`round ${round + 1}: native ${native.at(-1).toFixed(3)} s; ${module}: ` +
      `${seconds.map((s) => s.toFixed(3)).join(' ')} s, validation accuracy ${validation}`);
  }
}
server.close();
const summary = (times) => {
  if (times.length === 0) return 'none';
  const sorted = [...times].sort((a, b) => a - b);
  return `min ${sorted[0].toFixed(3)} median ${sorted[sorted.length >> 1].toFixed(3)} s`;
};
console.log(`native, one thread: ${summary(native)}`);
for (const [i, module] of modules.entries()) {
  console.log(`${module}: first epoch ${summary(first[i])}; later epochs ${summary(later[i])}; ` +
    `first / native ${(Math.min(...first[i]) / Math.min(...native)).toFixed(2)}`);
}
