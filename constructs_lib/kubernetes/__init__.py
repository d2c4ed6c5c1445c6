"""Kubernetes: SageMaker from an existing EKS cluster through the ACK controller: the cluster reference,
the controller (Helm) and its role, and one role per namespace with a persona's guardrails (ADR 0017)."""
