// convkit's data pipeline: IDX files, datasets, batching and MNIST. The package root exports
// this module as the namespace `data` (data.mnist('train', { pad: 2 })).
export { readIdx, readIdxFile, readIdxHeader, type IdxArray, type IdxData, type IdxHeader, type IdxType } from './idx.js';
export { TensorDataset, type Dataset, type Sample } from './dataset.js';
export { DataLoader, type Batch, type DataLoaderOptions } from './loader.js';
export { mnist, MNIST_MEAN, MNIST_STD, type MnistOptions, type MnistSplit } from './mnist.js';
