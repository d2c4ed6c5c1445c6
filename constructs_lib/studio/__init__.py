"""Studio: SageMaker Studio domains and what lives in them: the VPC-only domain, its security group, EFS
file system, lifecycle configs, sign-in policy, user profiles and spaces, the persona execution roles
(ADR 0004), and the teardown of a disposable environment's domain (ADR 0014)."""
