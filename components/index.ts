/** gpu-fleet components, importable by other Pulumi programs. */
export * from "./hostRef";
export * from "./gpuHost";
export * from "./nimService";
export * from "./observabilityStack";
export * from "./irisVectorDb";
export * from "./vectorizerJob";
