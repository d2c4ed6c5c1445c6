// CDK's own CloudFormation template validator (aws-cdk-lib's CloudFormationValidatePlugin, its default rules
// included), run in a Node process of its own for synth_checks/template_validation.py, outside the jsii
// kernel. stdin: {"library": <aws-cdk-lib's folder>, "stacks": [{stackConstructPath, templatePath, accountId,
// region}]}; stdout: {"version": <validator version>, "reports": [<the plugin's report for each stack alone>]}.
"use strict";
const fs = require("fs");
const path = require("path");

const request = JSON.parse(fs.readFileSync(0, "utf-8"));
const { CloudFormationValidatePlugin } = require(
  path.join(request.library, "core", "lib", "validation", "cloudformation-validate-plugin.js"),
);
const plugin = new CloudFormationValidatePlugin();
const reports = request.stacks.map((stack) =>
  plugin.validate({ stackTemplates: [stack], templatePaths: [stack.templatePath] }),
);
process.stdout.write(JSON.stringify({ version: plugin.version, reports }));
