"""`network`: the VPC the platform creates, or the existing one it is given."""

from __future__ import annotations

import ipaddress

from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import FrozenModel, WholeDays, unique


class NewVpcConfig(FrozenModel):
    """A VPC the platform creates: isolated subnets only, no internet or NAT gateways."""

    cidr: StrictStr = Field(description="IPv4 CIDR of the VPC, /16 to /24")
    availability_zones: tuple[StrictStr, ...] = Field(
        min_length=2, description="At least two AZs of the environment's region, named explicitly"
    )
    subnet_cidr_mask: StrictInt = Field(default=22, ge=16, le=28)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise FieldError(
                f"'{value}' is not an IPv4 network in CIDR notation ({error})",
                "give one such as 10.20.0.0/16",
            ) from None
        if not 16 <= network.prefixlen <= 24:
            raise FieldError(
                f"'{value}' has a /{network.prefixlen} prefix, outside what a VPC takes",
                "use a prefix length between /16 and /24",
            )
        return value

    @field_validator("availability_zones")
    @classmethod
    def _unique_zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "availability zones")

    @model_validator(mode="after")
    def _subnets_fit(self) -> NewVpcConfig:
        prefix = ipaddress.IPv4Network(self.cidr).prefixlen
        available = 2 ** (self.subnet_cidr_mask - prefix) if self.subnet_cidr_mask >= prefix else 0
        if available < len(self.availability_zones):
            raise FieldError(
                f"/{self.subnet_cidr_mask} leaves room for {available} subnet(s) in {self.cidr}, but "
                f"{len(self.availability_zones)} availability zones need one each",
                "use a larger mask number or a wider VPC CIDR",
                at="subnet_cidr_mask",
            )
        return self


class ExistingSubnetConfig(FrozenModel):
    subnet_id: StrictStr = Field(pattern=r"^subnet-[0-9a-f]{8,17}$")
    availability_zone: StrictStr
    route_table_id: StrictStr = Field(pattern=r"^rtb-[0-9a-f]{8,17}$")


class ExistingVpcConfig(FrozenModel):
    """A VPC owned elsewhere, referenced by ids (no lookups): private subnets with no internet route."""

    vpc_id: StrictStr = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    cidr: StrictStr
    subnets: tuple[ExistingSubnetConfig, ...] = Field(min_length=2)
    create_endpoints: StrictBool = Field(
        default=True, description="False when the VPC already has the endpoints Studio needs"
    )
    create_flow_logs: StrictBool = Field(default=True)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise FieldError(
                f"'{value}' is not an IPv4 network in CIDR notation ({error})",
                "give the VPC's CIDR, such as 10.20.0.0/16",
            ) from None
        return value

    @model_validator(mode="after")
    def _distinct_subnets(self) -> ExistingVpcConfig:
        unique(tuple(subnet.subnet_id for subnet in self.subnets), "subnet ids")
        if len({subnet.availability_zone for subnet in self.subnets}) < 2:
            raise FieldError(
                "the subnets are all in one availability zone", "list subnets in at least two", at="subnets"
            )
        return self


class NetworkConfig(FrozenModel):
    """Exactly one of `new_vpc` or `existing_vpc`."""

    new_vpc: NewVpcConfig | None = None
    existing_vpc: ExistingVpcConfig | None = None
    flow_log_retention_days: WholeDays = 365

    @model_validator(mode="after")
    def _one_vpc(self) -> NetworkConfig:
        if (self.new_vpc is None) == (self.existing_vpc is None):
            raise FieldError(
                "has both or neither of new_vpc and existing_vpc",
                "set exactly one of new_vpc (the platform creates it) or existing_vpc",
            )
        return self

    @property
    def availability_zones(self) -> tuple[str, ...]:
        if self.new_vpc is not None:
            return self.new_vpc.availability_zones
        assert self.existing_vpc is not None
        return tuple(dict.fromkeys(subnet.availability_zone for subnet in self.existing_vpc.subnets))
