/**
 * What a GpuHost "gpu0" on a g5.xlarge with one NimService "llm" registers: the README's component
 * snippet, run from the packed package (test/package) and from the sources (test/components).
 */
export const GPU0_AND_LLM_RESOURCES: readonly string[] = [
  "gpu-fleet:index:GpuHost gpu0",
  "aws:ec2/securityGroup:SecurityGroup gpu0-sg",
  "aws:iam/role:Role gpu0-role",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment gpu0-ssm-core",
  "aws:iam/instanceProfile:InstanceProfile gpu0-profile",
  "aws:ec2/keyPair:KeyPair gpu0-key",
  "aws:ec2/instance:Instance gpu0-instance",
  "aws:ebs/volume:Volume gpu0-data",
  "aws:ec2/volumeAttachment:VolumeAttachment gpu0-data-attachment",
  "command:remote:Command gpu0-provision",
  "command:remote:Command gpu0-verify-gpus",
  "command:remote:Command gpu0-ledger",
  "gpu-fleet:index:NimService llm",
  "command:remote:Command llm-ngc-key",
  "command:remote:Command llm-container",
];
