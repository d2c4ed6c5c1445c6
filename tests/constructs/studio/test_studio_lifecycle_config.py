"""StudioLifecycleConfig: the resource as given, and its ARN for the domain's settings."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from constructs_lib.studio.studio_lifecycle_config import StudioLifecycleConfig
from tests.constructs.support import bare_stack, logical_id

SCRIPT_BASE64 = "IyEvYmluL2Jhc2gKc2V0IC1ldQo="  # "#!/bin/bash\nset -eu\n"


def test_lifecycle_config_resource_and_arn(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    config = StudioLifecycleConfig(
        stack,
        "InstallTools",
        config_name="install-tools-3f2a9c",
        app_type="JupyterLab",
        script_base64=SCRIPT_BASE64,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SageMaker::StudioLifecycleConfig", 1)
    template.has_resource_properties(
        "AWS::SageMaker::StudioLifecycleConfig",
        {
            "StudioLifecycleConfigName": "install-tools-3f2a9c",
            "StudioLifecycleConfigAppType": "JupyterLab",
            "StudioLifecycleConfigContent": SCRIPT_BASE64,
        },
    )
    assert config.app_type == "JupyterLab"
    assert stack.resolve(config.arn) == {"Fn::GetAtt": [logical_id(config), "StudioLifecycleConfigArn"]}
    assert isinstance(config.resource, cdk.CfnResource)
