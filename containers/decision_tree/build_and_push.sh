#!/usr/bin/env bash
# Build the decision-tree image and push it to an existing ECR repository of the current account.
#
# Usage: build_and_push.sh <repository-name> <tag>
#
# Needs Docker, the AWS CLI and credentials. The region is AWS_REGION, else AWS_DEFAULT_REGION, else the
# CLI profile's region. The repository is not created here: ECR repositories belong to the platform's
# stateful stacks, so a missing one is an error.
set -euo pipefail

usage() {
    echo "usage: $0 <repository-name> <tag>" >&2
    exit 64
}

[[ $# -eq 2 ]] || usage
repository_name=$1
tag=$2
# ECR's own rules for repository names and image tags.
[[ $repository_name =~ ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] || {
    echo "invalid repository name: $repository_name" >&2
    exit 64
}
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || {
    echo "invalid tag: $tag" >&2
    exit 64
}

context_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}
if [[ -z $region ]]; then
    echo "no AWS region: set AWS_REGION or configure the CLI profile's region" >&2
    exit 1
fi
account_id=$(aws sts get-caller-identity --query Account --output text)
registry="${account_id}.dkr.ecr.${region}.amazonaws.com"
image="${registry}/${repository_name}:${tag}"

if ! aws ecr describe-repositories --region "$region" --repository-names "$repository_name" >/dev/null; then
    echo "ECR repository $repository_name does not exist in $account_id/$region; deploy it first" >&2
    exit 1
fi

aws ecr get-login-password --region "$region" |
    docker login --username AWS --password-stdin "$registry"
# SageMaker runs x86_64 instances unless told otherwise; build for them from any host.
docker build --platform linux/amd64 --tag "$image" "$context_dir"
docker push "$image"
echo "$image"
