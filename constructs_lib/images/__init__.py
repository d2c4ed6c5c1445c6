"""Images: ECR repositories for the platform's container images, Studio images (SageMaker Image, version,
AppImageConfig) built from them, and the CodeBuild project behind `mlplatform build-image` (ADR 0007)."""
