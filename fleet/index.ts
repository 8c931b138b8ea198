/** The fleet model: pure TypeScript, no Pulumi. Everything else asks it. */
export * from "./catalog/gpus";
export * from "./catalog/instances";
export * from "./catalog/models";
export * from "./catalog/precision";
export * from "./checks";
export * from "./config";
export * from "./estimator";
export * from "./hostLedger";
export * from "./ledger";
export * from "./placement";
export * from "./ports";
export * from "./plan";
export * from "./format";
