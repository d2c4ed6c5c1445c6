"""What the mlplatform tests share: the names of a moto-deployed platform, a fake clock, a runner."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import boto3

from platform_cli.build_image import AwsClients, BuildImageRequest, Console, Pacing, build_image
from platform_cli.errors import CommandError
from platform_config import naming

REGION: Final = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
ENVIRONMENT = "dev"
PROJECT = "dev-image-build"
BUCKET = "dev-image-build-sources"
REPOSITORY = "trainer"
REPOSITORY_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}"
OTHER_REPOSITORY = "serving"
# What moto stores as the image the build "pushed".
IMAGE_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "1" * 64, "size": 1, "mediaType": "application/json"},
        "layers": [],
    }
)


@dataclass
class FakeClock:
    """Monotonic time that moves only when the command sleeps; `on_sleep` actions run one per sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[], None]] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)()

    def pacing(self, poll_seconds: float = 5.0) -> Pacing:
        return Pacing(poll_seconds=poll_seconds, heartbeat_seconds=30.0, sleep=self.sleep, clock=self.clock)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    out: str
    err: str


def run_build(request: BuildImageRequest, clients: AwsClients, clock: FakeClock | None = None) -> Outcome:
    """Run the flow as `main` does: a CommandError becomes its exit code and a message on stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        exit_code = build_image(
            request,
            clients=clients,
            console=Console(out=out, err=err),
            pacing=(clock or FakeClock()).pacing(),
        )
    except CommandError as error:
        err.write(f"mlplatform: error: {error}\n")
        exit_code = error.exit_code
    return Outcome(exit_code=exit_code, out=out.getvalue(), err=err.getvalue())


@dataclass(frozen=True)
class Platform:
    """The image build path as the stacks would deploy it, in moto."""

    session: boto3.Session

    def clients(self) -> AwsClients:
        return AwsClients(lambda: self.session)

    def put_image(self, tag: str) -> str:
        """Push an image as the build would; returns its digest (moto's own reckoning of it)."""
        ecr = self.session.client("ecr")
        image = ecr.put_image(repositoryName=REPOSITORY, imageManifest=IMAGE_MANIFEST, imageTag=tag)["image"]
        return image["imageId"]["imageDigest"]

    def uploaded_keys(self) -> list[str]:
        listing = self.session.client("s3").list_objects_v2(Bucket=BUCKET)
        return [item["Key"] for item in listing.get("Contents", [])]


def publish_image_build_parameters(session: boto3.Session, *, repositories: dict[str, str]) -> None:
    ssm = session.client("ssm")
    ssm.put_parameter(
        Name=naming.image_build_parameter(ENVIRONMENT, "project-name"), Value=PROJECT, Type="String"
    )
    ssm.put_parameter(
        Name=naming.image_build_parameter(ENVIRONMENT, "source-bucket"), Value=BUCKET, Type="String"
    )
    for name, uri in repositories.items():
        ssm.put_parameter(Name=naming.repository_parameter(ENVIRONMENT, name), Value=uri, Type="String")
