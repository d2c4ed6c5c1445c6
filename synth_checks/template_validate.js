// CDK's own CloudFormation template validator (aws-cdk-lib's CloudFormationValidatePlugin, its default rules
// included), run in a Node process of its own for synth_checks/template_validation.py, outside the jsii
// kernel. One request per line on stdin: {"library": <aws-cdk-lib's folder>, "stacks": [{stackConstructPath,
// templatePath, accountId, region}]}; one answer per line on stdout: {"version": <validator version>,
// "reports": [<the plugin's report for each stack alone>]}, or {"error": <message>}. The plugin (its WASM
// engine, about two seconds to load) is built once per process, as CDK builds its own once per process.
"use strict";
const path = require("path");
const readline = require("readline");

const plugins = new Map();

function plugin(library) {
  if (!plugins.has(library)) {
    const file = path.join(library, "core", "lib", "validation", "cloudformation-validate-plugin.js");
    const { CloudFormationValidatePlugin } = require(file);
    plugins.set(library, new CloudFormationValidatePlugin());
  }
  return plugins.get(library);
}

function answer(line) {
  try {
    const request = JSON.parse(line);
    const validator = plugin(request.library);
    const reports = request.stacks.map((stack) =>
      validator.validate({ stackTemplates: [stack], templatePaths: [stack.templatePath] }),
    );
    return { version: validator.version, reports };
  } catch (error) {
    return { error: String(error && error.stack ? error.stack : error) };
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim()) process.stdout.write(JSON.stringify(answer(line)) + "\n");
});
