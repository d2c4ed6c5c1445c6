"""Shared primitives: what two or more capabilities build on, and no capability owns.

Keys and buckets (`platform_key`, `encrypted_bucket`, `access_logs_bucket`), the compliance helpers every
construct acknowledges findings through, cross-account principals, the platform's Lambda function and
provider framework, log retention, the job guardrails and security group that Studio personas, pipelines,
endpoints and Kubernetes namespaces share, the model event bus contract, the disposable-environment
cleanup, and the Stage-wide IAM guardrails (role path and permissions boundary). Imports nothing from a
capability package.
"""
