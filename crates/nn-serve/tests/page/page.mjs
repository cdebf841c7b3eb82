// The page in headless Chromium: `nn serve` started on a free port with a model and MNIST;
// MNIST test digits traced as strokes on the canvas and the predictions read; a short run
// trained in the page with edited settings and "test accuracy" read from #status; no console
// errors; a screenshot saved.
//
//   node page.mjs NN_BIN MNIST_DIR MODEL.json SCREENSHOT.png [--train-size N] [--epochs E] [--web DIR]
//
// Prints one line per measure (`prediction-ms`, `epoch-seconds`, ...) for docs/performance.md.

import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [nnBin, mnistDir, modelPath, screenshot, ...rest] = process.argv.slice(2);
if (!screenshot) {
  console.error('usage: node page.mjs NN_BIN MNIST_DIR MODEL.json SCREENSHOT.png [--train-size N] [--epochs E]');
  process.exit(2);
}
const option = (name, fallback) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : fallback;
};
const trainSize = option('--train-size', '5000');
const epochs = option('--epochs', '2');
const minAccuracy = Number(option('--min-accuracy', '80'));
const web = option('--web', null); // serve this folder instead of the page built into nn

function fail(message) {
  console.error(`error: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

// MNIST's test images, for digits to trace.
const images = gunzipSync(readFileSync(join(mnistDir, 't10k-images-idx3-ubyte.gz')));
const labels = gunzipSync(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte.gz')));
const digit = (i) => ({ pixels: images.subarray(16 + 784 * i, 16 + 784 * (i + 1)), label: labels[8 + i] });

const server = spawn(nnBin, ['serve', '--port', '0', '--model', modelPath, '--data', mnistDir,
  ...(web ? ['--web', web] : [])],
  { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let text = '';
  server.stdout.on('data', (chunk) => {
    text += chunk;
    const m = text.match(/^serving (http:\/\/\S+)\n/);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`nn serve exited with ${code}`)));
});

const profile = mkdtempSync(join(tmpdir(), 'nn-page-'));
let browser = null;
try {
  // A fresh profile (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 1800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('model-name').textContent !== 'none yet');
  const banner = await page.locator('#banner').textContent();
  if (await page.locator('#banner').isVisible()) fail(`the page says: ${banner}`);

  // Trace a digit's ink as strokes: each pair of rows' runs of ink, one horizontal stroke each.
  const box = await page.locator('#draw').boundingBox();
  const scale = box.width / 28;
  let right = 0;
  const times = [];
  const traced = 10;
  for (let i = 0; i < traced; i++) {
    await page.click('#clear');
    const { pixels, label } = digit(i);
    for (let y = 0; y < 28; y += 2) {
      let x = 0;
      while (x < 28) {
        const ink = (xx) => Math.max(pixels[y * 28 + xx], y + 1 < 28 ? pixels[(y + 1) * 28 + xx] : 0) > 100;
        if (!ink(x)) { x++; continue; }
        const start = x;
        while (x < 28 && ink(x)) x++;
        const py = box.y + (y + 1) * scale;
        await page.mouse.move(box.x + (start + 0.5) * scale, py);
        await page.mouse.down();
        await page.mouse.move(box.x + (x - 0.5) * scale, py, { steps: 3 });
        await page.mouse.up();
      }
    }
    await page.waitForFunction(() => /ms$/.test(document.getElementById('latency').textContent));
    const predicted = Number(await page.locator('#prediction').textContent());
    const ms = Number((await page.locator('#latency').textContent()).match(/([\d.]+) ms/)[1]);
    times.push(ms);
    right += predicted === label ? 1 : 0;
    console.log(`digit ${i}: label ${label}, predicted ${predicted}, ${ms} ms`);
    if (i === 0) await page.screenshot({ path: screenshot.replace(/\.png$/, '-draw.png') });
  }
  times.sort((a, b) => a - b);
  console.log(`prediction-ms median ${times[times.length >> 1]} max ${times[times.length - 1]}`);
  if (right < 7) fail(`only ${right} of ${traced} traced digits recognised`);

  // A short run with settings edited in the page.
  await page.fill('#train-size', trainSize);
  await page.fill('#epochs', epochs);
  await page.click('#train');
  await page.waitForFunction(() => /test accuracy|error/.test(document.getElementById('status').textContent),
    null, { timeout: 600_000 });
  const status = await page.locator('#status').textContent();
  console.log(`status: ${status}`);
  const m = status.match(/([\d.]+) s per epoch, test accuracy ([\d.]+)%/);
  if (!m) fail(`no test accuracy in the status line: ${status}`);
  console.log(`epoch-seconds ${m[1]} (training images ${trainSize})`);
  if (Number(m[2]) < minAccuracy) fail(`test accuracy ${m[2]}% is below ${minAccuracy}%`);
  await page.screenshot({ path: screenshot, fullPage: true });
  if (problems.length) fail(`the page reported errors:\n${problems.join('\n')}`);
  console.log(`ok: ${right}/${traced} traced digits recognised, test accuracy ${m[2]}%, screenshot ${screenshot}`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
  rmSync(profile, { recursive: true, force: true });
}
