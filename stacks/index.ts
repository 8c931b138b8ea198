/**
 * Entry point of the `gpu-fleet` Pulumi program (Pulumi.yaml `main`). A stack with `gpu-fleet:eks` runs
 * on an EKS cluster (stacks/eks.ts); any other runs on GPU hosts (stacks/fleet.ts). The exported
 * object's keys are the stack outputs: the endpoints, the GPU map, the hourly cost, and — when the
 * stack runs them — the observability endpoints, what the vectorizer ingested, or the kubeconfig.
 */
import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE } from "../fleet";
import { deployKubernetesFleet, kubernetesStackOutputs } from "./eks";
import { deployFleet, stackOutputs } from "./fleet";

const onKubernetes = new pulumi.Config(NAMESPACE).get("eks") !== undefined;

export = onKubernetes ? kubernetesStackOutputs(deployKubernetesFleet()) : stackOutputs(deployFleet());
