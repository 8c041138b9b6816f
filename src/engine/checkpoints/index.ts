export type { DType, StateDict, Tensor } from './tensor.ts';
export { loadTorchCheckpoint } from './torch.ts';
export { loadSafetensors, readSafetensorsHeader, type SafetensorsEntry, type SafetensorsHeader } from './safetensors.ts';
export { toFloat32, halfToFloat, dtypeByteSize } from './dtypes.ts';
export { unpickle } from './unpickle.ts';
