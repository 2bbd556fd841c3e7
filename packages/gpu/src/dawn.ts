/**
 * The one place that loads dawn.node. It defines no WebGPU globals of its own (`GPUBufferUsage`,
 * `GPUMapMode`, …), so this module installs them; every module that uses them imports this one.
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);

export { create };
