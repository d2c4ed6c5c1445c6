#!/usr/bin/env python3
"""The floor every CDK app pays: one App, one empty Stack with an explicit environment, synthesized.

bench/synth_bench.py runs this through the same CLI, flags and interpreter as the real app, so the ratio
of the two wall times says how much of a full synth is this project's own work.
"""

from __future__ import annotations

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "EmptyStack", env=cdk.Environment(account="111111111111", region="us-east-1"))
app.synth()
