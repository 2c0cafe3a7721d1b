// Models more than one test file builds.
import { nn } from '../lib/index.js';

/** LeNet-5 for 1x32x32 inputs, as PyTorch's tutorial has it; with a BatchNorm2d after conv1 when asked. */
export function leNet5(options: { batchNorm?: boolean } = {}): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 6, 5), ...(options.batchNorm ? [new nn.BatchNorm2d(6)] : []), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(400, 120), new nn.ReLU(),
    new nn.Linear(120, 84), new nn.ReLU(),
    new nn.Linear(84, 10),
  );
}
