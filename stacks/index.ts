/** Entry point of the `gpu-fleet` Pulumi program (Pulumi.yaml `main`). */
import { deployFleet, stackOutputs } from "./fleet";

const outputs = stackOutputs(deployFleet());

export const hourlyUsd = outputs.hourlyUsd;
export const endpoints = outputs.endpoints;
export const gpuMap = outputs.gpuMap;
