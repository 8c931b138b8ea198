/**
 * Entry point of the `gpu-fleet` Pulumi program (Pulumi.yaml `main`). The exported object's keys are
 * the stack outputs: the endpoints, the GPU map, the hourly cost, and — when the stack runs them —
 * the observability endpoints and what the vectorizer ingested.
 */
import { deployFleet, stackOutputs } from "./fleet";

export = stackOutputs(deployFleet());
