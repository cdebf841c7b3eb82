// The page's engine: nn-wasm (crates/nn-wasm, built by scripts/build-web into
// web/pkg/nn_wasm.wasm) wrapped into the JavaScript API the page, its worker and the Node tests
// use. Every computation is the Rust engine's; this file only moves bytes in and out of the
// module's memory and turns its refusals into Errors. Works in a page, a Web Worker and Node 20.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The module's bytes from an ArrayBuffer, a typed array or a URL. */
async function moduleBytes(source) {
  if (source instanceof ArrayBuffer) return source;
  if (ArrayBuffer.isView(source)) return source;
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`cannot load the engine from ${source}: HTTP ${response.status}`);
    return response.arrayBuffer();
  }
  throw new Error('loadEngine takes the module as an ArrayBuffer, a Uint8Array or a URL');
}

/** Loads the engine. */
export async function loadEngine(source) {
  const { instance } = await WebAssembly.instantiate(await moduleBytes(source), {});
  const x = instance.exports;
  x.nn_init();

  // The output buffer of the last call, as bytes (copied: memory may grow afterwards).
  const out = () => new Uint8Array(x.memory.buffer, x.nn_out_ptr(), x.nn_out_len()).slice();

  // Runs an export; a refusal (-1) becomes an Error with the engine's message, and a trap
  // (an engine bug) an Error with the panic's message when there is one.
  const call = (f, ...args) => {
    let value;
    try {
      value = f(...args);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        const message = decoder.decode(out());
        throw new Error(message.startsWith('internal error') ? message : `engine failure: ${e.message}`);
      }
      throw e;
    }
    if (value < 0) throw new Error(decoder.decode(out()));
    return value;
  };

  // Copies `bytes` (a Uint8Array) into module memory for the duration of `use(ptr, len)`.
  const withBytes = (bytes, use) => {
    const len = bytes.byteLength;
    const ptr = x.nn_alloc(len);
    if (ptr === 0) throw new Error(`not enough memory for ${len} bytes`);
    try {
      new Uint8Array(x.memory.buffer, ptr, len).set(bytes);
      return use(ptr, len);
    } finally {
      x.nn_dealloc(ptr, len);
    }
  };
  const asBytes = (data, what) => {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new Error(`${what} must be an ArrayBuffer or a typed array`);
  };
  const withText = (value, use) => withBytes(encoder.encode(JSON.stringify(value ?? {})), use);
  const withFloats = (values, what, use) => {
    if (!(values instanceof Float32Array)) {
      if (values == null || typeof values.length !== 'number') {
        throw new Error(`${what} must be a Float32Array or an array of numbers`);
      }
      values = Float32Array.from(values);
    }
    return withBytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      (ptr) => use(ptr, values.length));
  };
  const floats = () => {
    const bytes = out();
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const json = () => JSON.parse(decoder.decode(out()));
  const live = (handle, what) => {
    if (handle === 0) throw new Error(`this ${what} was freed`);
    return handle;
  };

  class Data {
    constructor(handle) {
      this.handle = handle;
      this.length = json();
    }
    slice(start = 0, end = this.length) {
      return new Data(call(x.nn_data_slice, live(this.handle, 'data set'), start, end));
    }
    free() {
      if (this.handle !== 0) x.nn_data_free(this.handle);
      this.handle = 0;
    }
  }

  class Net {
    constructor(handle) {
      this.handle = handle;
      this.sizes = json();
    }
    toJson() {
      call(x.nn_network_to_json, live(this.handle, 'network'));
      return decoder.decode(out());
    }
    trainEpoch(data, options) {
      const started = performance.now();
      withText(options, (ptr, len) =>
        call(x.nn_train_epoch, live(this.handle, 'network'), live(data.handle, 'data set'), ptr, len));
      return { seconds: (performance.now() - started) / 1000 };
    }
    evaluate(data) {
      call(x.nn_evaluate, live(this.handle, 'network'), live(data.handle, 'data set'));
      return json();
    }
    predict(pixels) {
      withFloats(pixels, 'pixels', (ptr, count) =>
        call(x.nn_predict, live(this.handle, 'network'), ptr, count));
      return floats();
    }
    free() {
      if (this.handle !== 0) x.nn_network_free(this.handle);
      this.handle = 0;
    }
  }

  return {
    /** The instruction set the engine computes with ("simd128" when built with it). */
    get kernel() {
      call(x.nn_kernel);
      return decoder.decode(out());
    },
    createNetwork(options = {}) {
      return new Net(withText(options, (ptr, len) => call(x.nn_network_create, ptr, len)));
    },
    networkFromJson(text) {
      if (typeof text !== 'string') throw new Error('networkFromJson takes the model file as text');
      return new Net(withBytes(encoder.encode(text), (ptr, len) => call(x.nn_network_from_json, ptr, len)));
    },
    dataFromIdx(imagesBytes, labelsBytes) {
      const images = asBytes(imagesBytes, 'the images file');
      const labels = asBytes(labelsBytes, 'the labels file');
      return new Data(withBytes(images, (ip, il) =>
        withBytes(labels, (lp, ll) => call(x.nn_data_from_idx, ip, il, lp, ll))));
    },
    preparePicture(rgba, width, height) {
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
        throw new Error('preparePicture takes the width and height in pixels');
      }
      withBytes(asBytes(rgba, 'the picture'), (ptr, len) =>
        call(x.nn_prepare_picture, ptr, len, width, height));
      return floats();
    },
    neuron(options) {
      withText(options, (ptr, len) => call(x.nn_neuron, ptr, len));
      const all = floats();
      const half = all.length / 2;
      return { output: all.slice(0, half), cost: all.slice(half) };
    },
    softmax(z, c = 1) {
      if (typeof c !== 'number') throw new Error('softmax takes c as a number');
      withFloats(z, 'z', (ptr, count) => call(x.nn_softmax, ptr, count, c));
      return floats();
    },
  };
}
