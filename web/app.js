// The page: drawing, training (in worker.js) and the chapter's figures, all computed by the
// engine (engine.js, the WebAssembly build of nn's crates).

const $ = (id) => document.getElementById(id);
const WASM_URL = '/pkg/nn_wasm.wasm';

let engine = null;
let network = null;      // the model drawing predicts with (an engine network)
let modelJson = null;    // its JSON, for downloading
let serverModel = false; // the server has a model, for drawing without the engine

function banner(text) {
  const b = $('banner');
  b.textContent = text;
  b.style.display = text ? 'block' : 'none';
}

async function loadTheEngine() {
  try {
    const { loadEngine } = await import('./engine.js');
    const response = await fetch(WASM_URL);
    if (!response.ok) throw new Error(`${WASM_URL}: HTTP ${response.status}`);
    return await loadEngine(await response.arrayBuffer());
  } catch (e) {
    banner('The engine is not built (' + e.message + '). Run scripts/build-web, then build nn ' +
      'again (cargo build --release -p nn-cli) or serve the folder with nn serve --web web. ' +
      'Drawing still works with the server\'s model (nn serve --model); training and the ' +
      'figures need the engine.');
    return null;
  }
}

// ---- Plots -------------------------------------------------------------------------------

// Draws each series ({values, color}) scaled to its own range (or to `range` when given).
function plot(canvas, series, { length, labels = [] } = {}) {
  const g = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const pad = 28;
  g.clearRect(0, 0, w, h);
  g.strokeStyle = '#999';
  g.strokeRect(pad, 8, w - pad - 8, h - pad - 8);
  g.fillStyle = '#555';
  g.font = '12px sans-serif';
  labels.forEach((text, i) => g.fillText(text, pad + 6, 22 + 15 * i));
  for (const s of series) {
    const v = s.values;
    const n = Math.max(length ?? v.length, 2);
    if (v.length === 0) continue;
    let [lo, hi] = s.range ?? [Math.min(...v), Math.max(...v)];
    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    v.forEach((y, i) => {
      const px = pad + (i / (n - 1)) * (w - pad - 8);
      const py = 8 + (1 - (y - lo) / (hi - lo)) * (h - pad - 8);
      if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
    });
    g.stroke();
  }
  g.fillStyle = '#555';
  g.fillText('epoch', w - 50, h - 8);
}

function bars(element, values, best, names) {
  element.replaceChildren(...Array.from(values, (p, i) => {
    const row = document.createElement('div');
    const label = document.createElement('span');
    label.textContent = `${names ? names[i] : i}`;
    label.style.width = '2.5em';
    const bar = document.createElement('span');
    bar.className = i === best ? 'bar best' : 'bar';
    bar.style.width = `${Math.round(Math.max(0, Math.min(1, p)) * 200)}px`;
    const text = document.createElement('span');
    text.textContent = p.toFixed(3);
    row.append(label, bar, text);
    return row;
  }));
}

// ---- Draw a digit --------------------------------------------------------------------------

const draw = $('draw');
const pen = draw.getContext('2d', { willReadFrequently: true });

function clearDrawing() {
  pen.fillStyle = '#fff';
  pen.fillRect(0, 0, draw.width, draw.height);
  $('prediction').textContent = '–';
  $('seen').getContext('2d').clearRect(0, 0, 28, 28);
  bars($('bars'), new Array(10).fill(0), -1);
  $('latency').textContent = '';
}

let last = null;
let inked = false;
draw.addEventListener('pointerdown', (e) => {
  draw.setPointerCapture(e.pointerId);
  last = point(e);
  stroke(last, last);
});
draw.addEventListener('pointermove', (e) => {
  if (!last) return;
  const p = point(e);
  stroke(last, p);
  last = p;
});
for (const end of ['pointerup', 'pointercancel']) {
  draw.addEventListener(end, () => {
    if (!last) return;
    last = null;
    predictDrawing();
  });
}
function point(e) {
  const r = draw.getBoundingClientRect();
  return [(e.clientX - r.left) * draw.width / r.width, (e.clientY - r.top) * draw.height / r.height];
}
function stroke(a, b) {
  pen.strokeStyle = '#000';
  pen.lineWidth = 20;
  pen.lineCap = 'round';
  pen.lineJoin = 'round';
  pen.beginPath();
  pen.moveTo(a[0], a[1]);
  pen.lineTo(b[0], b[1]);
  pen.stroke();
  inked = true;
}
$('clear').addEventListener('click', () => { inked = false; clearDrawing(); });

function showPrediction(probabilities, started) {
  let best = 0;
  probabilities.forEach((p, i) => { if (p > probabilities[best]) best = i; });
  $('prediction').textContent = String(best);
  bars($('bars'), probabilities, best);
  $('latency').textContent = `drawing to prediction: ${(performance.now() - started).toFixed(1)} ms`;
}

async function predictDrawing() {
  if (!inked) return;
  const started = performance.now();
  if (engine && network) {
    const rgba = pen.getImageData(0, 0, draw.width, draw.height).data;
    let pixels;
    try {
      pixels = engine.preparePicture(rgba, draw.width, draw.height);
    } catch (e) {
      $('prediction').textContent = '–';
      $('latency').textContent = e.message;
      return;
    }
    const seen = $('seen').getContext('2d');
    const image = seen.createImageData(28, 28);
    pixels.forEach((v, i) => {
      const g = Math.round(v * 255);
      image.data.set([g, g, g, 255], 4 * i);
    });
    seen.putImageData(image, 0, 0);
    const out = Array.from(network.predict(pixels));
    const total = out.reduce((a, b) => a + b, 0);
    showPrediction(out.map((a) => (total > 0 ? a / total : 0)), started);
  } else if (serverModel) {
    const blob = await new Promise((resolve) => draw.toBlob(resolve, 'image/png'));
    const reply = await fetch('/api/predict', { method: 'POST', body: blob });
    const json = await reply.json();
    if (!reply.ok) { $('latency').textContent = json.error; return; }
    showPrediction(json.probabilities, started);
  } else {
    $('latency').textContent = 'no model yet: train one below, load a file, or start nn serve --model';
  }
}

function useModel(json, name) {
  if (!engine) throw new Error('the engine is not built');
  const next = engine.networkFromJson(json);
  if (network) network.free();
  network = next;
  modelJson = json;
  $('model-name').textContent = `${name} (${next.sizes.join(',')})`;
  $('download').disabled = false;
  predictDrawing();
}

$('model-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    useModel(await file.text(), file.name);
  } catch (err) {
    $('model-name').textContent = `${file.name}: ${err.message}`;
  }
});

// ---- Train in the page -------------------------------------------------------------------

let worker = null;
const history = { validation: [], cost: [] };

function settings() {
  const number = (id) => Number($(id).value);
  const sizes = $('sizes').value.split(',').map((s) => Number(s.trim()));
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1) || sizes[0] !== 784 ||
      sizes[sizes.length - 1] !== 10) {
    throw new Error('sizes: whole numbers separated by commas, from 784 inputs to 10 outputs');
  }
  const s = {
    sizes, cost: $('cost').value, eta: number('eta'), lambda: number('lambda'),
    miniBatch: number('mini-batch'), epochs: number('epochs'), dropout: number('dropout'),
    expand: $('expand').checked, trainSize: number('train-size'), seed: number('seed'),
  };
  if (!(s.eta > 0) || !(s.lambda >= 0) || !(s.miniBatch >= 1) || !(s.epochs >= 1) ||
      !(s.dropout >= 0 && s.dropout < 1) || !(s.trainSize >= 10 && s.trainSize <= 50000)) {
    throw new Error('settings: η > 0, λ ≥ 0, mini-batch ≥ 1, epochs ≥ 1, 0 ≤ dropout < 1, ' +
      '10 to 50,000 training images');
  }
  return s;
}

function drawCurves(epochs) {
  plot($('curves'), [
    { values: history.validation, color: '#3a7bd5' },
    { values: history.cost, color: '#e08a2c' },
  ], { length: epochs + 1 });
}

$('train').addEventListener('click', () => {
  let s;
  try { s = settings(); } catch (e) { $('status').textContent = e.message; return; }
  if (worker) worker.terminate();
  history.validation = []; history.cost = [];
  worker = new Worker('worker.js', { type: 'module' });
  worker.onmessage = ({ data: m }) => {
    if (m.type === 'status') {
      $('status').textContent = m.text;
    } else if (m.type === 'epoch') {
      history.validation.push(m.validation.accuracy);
      history.cost.push(m.training.cost);
      drawCurves(s.epochs);
      $('status').textContent = `epoch ${m.epoch}/${s.epochs}: validation accuracy ` +
        `${(100 * m.validation.accuracy).toFixed(2)}%, training cost ${m.training.cost.toFixed(4)}, ` +
        `${m.seconds.toFixed(2)} s`;
    } else if (m.type === 'stopped') {
      $('status').textContent = `stopped after epoch ${m.epoch}; Continue goes on`;
      $('stop').disabled = true; $('continue').disabled = false;
      useModel(m.model, `trained here, ${m.epoch} epochs`);
    } else if (m.type === 'done') {
      $('stop').disabled = true; $('continue').disabled = true; $('train').disabled = false;
      useModel(m.model, `trained here, ${m.epochs} epochs`);
      $('status').textContent = `done: ${m.epochs} epochs, ${m.secondsPerEpoch.toFixed(2)} s per ` +
        `epoch, test accuracy ${(100 * m.test.accuracy).toFixed(2)}%`;
    } else if (m.type === 'error') {
      $('status').textContent = `error: ${m.message}`;
      $('stop').disabled = true; $('train').disabled = false;
    }
  };
  worker.onerror = (e) => { $('status').textContent = `error: ${e.message}`; };
  $('train').disabled = true; $('stop').disabled = false; $('continue').disabled = true;
  worker.postMessage({ type: 'start', settings: s, wasm: new URL(WASM_URL, location.href).href });
});
$('stop').addEventListener('click', () => worker && worker.postMessage({ type: 'stop' }));
$('continue').addEventListener('click', () => {
  if (!worker) return;
  $('stop').disabled = false; $('continue').disabled = true;
  worker.postMessage({ type: 'continue' });
});
$('download').addEventListener('click', () => {
  if (!modelJson) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([modelJson], { type: 'application/json' }));
  a.download = 'model.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

// ---- The chapter's figures ---------------------------------------------------------------

$('neuron-start').addEventListener('change', () => {
  const [w, b] = $('neuron-start').value.split(',');
  $('neuron-w').value = w; $('neuron-b').value = b;
  runNeurons();
});

let animation = 0;
function runNeurons() {
  if (!engine) return;
  const w = Number($('neuron-w').value), b = Number($('neuron-b').value);
  const epochs = Math.max(1, Math.min(5000, Math.round(Number($('neuron-epochs').value))));
  const runs = ['quadratic', 'cross-entropy'].map((cost) => {
    const eta = Number($(`eta-${cost}`).value);
    const { output, cost: costs } = engine.neuron({ w, b, eta, cost, epochs });
    return { kind: cost, eta, output, costs };
  });
  const id = ++animation;
  const started = performance.now();
  const frame = () => {
    if (id !== animation) return;
    // At least the start: the first frame runs at once, often in the same tick of the clock.
    const shown = Math.max(1, Math.min(epochs + 1,
      Math.ceil((performance.now() - started) / 1500 * (epochs + 1))));
    for (const r of runs) {
      const out = Array.from(r.output.subarray(0, shown));
      const cost = Array.from(r.costs.subarray(0, shown));
      plot($(`neuron-${r.kind}`), [
        { values: out, color: '#3a7bd5', range: [0, 1] },
        { values: cost, color: '#e08a2c', range: [0, Math.max(...r.costs)] },
      ], { length: epochs + 1, labels: [
        `epoch ${shown - 1}: output ${out[out.length - 1].toFixed(3)}, cost ${cost[cost.length - 1].toFixed(3)}`,
        `w = ${w}, b = ${b}, η = ${r.eta}`] });
    }
    if (shown < epochs + 1) requestAnimationFrame(frame);
  };
  frame();
}
$('neuron-run').addEventListener('click', runNeurons);

const softmaxZ = [2.5, -1, 3.2, 0.5];
let softmaxC = 1;
function softmaxSliders() {
  const box = $('softmax-sliders');
  const slider = (name, value, min, max, set) => {
    const label = document.createElement('label');
    label.style.display = 'block';
    const input = document.createElement('input');
    Object.assign(input, { type: 'range', min, max, step: 0.1, value, id: `softmax-${name}` });
    const text = document.createElement('span');
    text.textContent = ` ${name} = ${Number(value).toFixed(1)}`;
    input.addEventListener('input', () => {
      set(Number(input.value));
      text.textContent = ` ${name} = ${Number(input.value).toFixed(1)}`;
      showSoftmax();
    });
    label.append(input, text);
    box.append(label);
  };
  softmaxZ.forEach((z, j) => slider(`z${j + 1}`, z, -5, 5, (v) => { softmaxZ[j] = v; }));
  slider('c', softmaxC, 0.1, 5, (v) => { softmaxC = v; });
}
function showSoftmax() {
  if (!engine) return;
  const a = Array.from(engine.softmax(Float32Array.from(softmaxZ), softmaxC));
  bars($('softmax-out'), a, a.indexOf(Math.max(...a)), ['a1', 'a2', 'a3', 'a4']);
}

// ---- Start -------------------------------------------------------------------------------

clearDrawing();
softmaxSliders();
engine = await loadTheEngine();
if (!engine) {
  for (const id of ['train', 'neuron-run']) $(id).disabled = true;
}
try {
  const info = await (await fetch('/api/info')).json();
  serverModel = Boolean(info.model);
  if (serverModel && engine) {
    useModel(await (await fetch('/api/model')).text(), 'from nn serve --model');
  } else if (serverModel) {
    $('model-name').textContent = `nn serve's (${info.model.sizes.join(',')}), via POST /api/predict`;
  }
} catch (e) {
  $('model-name').textContent = `none (the server did not answer: ${e.message})`;
}
runNeurons();
showSoftmax();
