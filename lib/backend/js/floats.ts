// The kernels take float32 buffers in use, and float64 buffers too so that tests can check
// gradients by finite differences in full precision. The code is the same for both.
export type Floats = Float32Array | Float64Array;
