// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (AGPL: a pinned dev dependency, run
// only by the tests, never shipped). stdin: a JSON array of simulations as iam-simulate takes them.
// stdout: a JSON array, one verdict per simulation, in order: the decision, the statements that decided it
// (policy name and Sid), the request's context keys that the action does not take, and validation errors.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const statementIds = (statements) =>
  (statements || []).map((s) => `${s.policyId ?? 'resource'}:${s.statement.sid() ?? s.statement.index()}`)

function decisive(analysis) {
  if (!analysis) return { allow: [], deny: [] }
  const parts = [analysis.identityAnalysis, analysis.resourceAnalysis, analysis.permissionBoundaryAnalysis]
  return {
    allow: parts.flatMap((part) => statementIds(part?.allowStatements)),
    deny: parts.flatMap((part) => statementIds(part?.denyStatements)),
  }
}

const verdicts = []
for (const simulation of simulations) {
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    verdicts.push({ decision: 'Error', errors: response.errors })
    continue
  }
  const result = response.resultType === 'single' ? response.result : response.results?.[0]
  verdicts.push({
    decision: response.overallResult,
    ...decisive(result?.analysis),
    ignoredContextKeys: result?.ignoredContextKeys ?? [],
  })
}
process.stdout.write(JSON.stringify(verdicts))
