// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (AGPL: a pinned dev dependency, run
// only by the tests, never shipped). stdin: a JSON array of simulations as iam-simulate takes them.
// stdout: a JSON array, one verdict per simulation, in order: the decision, the statements that decided it
// (policy name and Sid), the request's context keys that the action does not take, and validation errors.
import { allowedContextKeysForRequest, runSimulation } from '@cloud-copilot/iam-simulate'

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

// iam-simulate matches a variable key of the reference only across a slash (aws:ResourceTag/<tag>), so it
// drops keys whose variable part follows a colon, such as kms:EncryptionContext:aws:logs:arn (listed as
// kms:EncryptionContext:${EncryptionContextKey}), and the condition then never matches. Such a request is
// evaluated again with that one key renamed to the reference's template, in the request and in every
// policy's conditions alike: the comparison is unchanged, and the simulator's checks still apply.
async function colonVariableKeys(simulation, ignored) {
  const [service, action] = simulation.request.action.split(':')
  let allowed
  try {
    allowed = await allowedContextKeysForRequest(service, action, simulation.request.resource.resource, false)
  } catch {
    return new Map()
  }
  const templates = allowed.filter((key) => key.includes(':${'))
  const renamed = new Map()
  for (const key of ignored) {
    const template = templates.find((t) => key.toLowerCase().startsWith(t.slice(0, t.indexOf('${'))))
    if (template) renamed.set(key.toLowerCase(), template)
  }
  return renamed
}

function renameConditionKeys(document, renamed) {
  if (!document) return document
  const statements = [document.Statement].flat().map((statement) => {
    if (!statement.Condition) return statement
    const condition = Object.fromEntries(
      Object.entries(statement.Condition).map(([operator, keys]) => [
        operator,
        Object.fromEntries(Object.entries(keys).map(([key, value]) => [renamed.get(key.toLowerCase()) ?? key, value])),
      ]),
    )
    return { ...statement, Condition: condition }
  })
  return { ...document, Statement: statements }
}

function withRenamedKeys(simulation, renamed) {
  const policies = (list) => list?.map((entry) => ({ ...entry, policy: renameConditionKeys(entry.policy, renamed) }))
  const context = Object.fromEntries(
    Object.entries(simulation.request.contextVariables).map(([key, value]) => [renamed.get(key.toLowerCase()) ?? key, value]),
  )
  return {
    ...simulation,
    request: { ...simulation.request, contextVariables: context },
    identityPolicies: policies(simulation.identityPolicies),
    permissionBoundaryPolicies: policies(simulation.permissionBoundaryPolicies),
    resourcePolicy: renameConditionKeys(simulation.resourcePolicy, renamed),
  }
}

async function evaluate(simulation) {
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') return { response }
  const result = response.resultType === 'single' ? response.result : response.results?.[0]
  return { response, result, ignored: result?.ignoredContextKeys ?? [] }
}

const verdicts = []
for (const original of simulations) {
  let { response, result, ignored } = await evaluate(original)
  if (response.resultType !== 'error') {
    const renamed = await colonVariableKeys(original, ignored)
    if (renamed.size > 0) ({ response, result, ignored } = await evaluate(withRenamedKeys(original, renamed)))
  }
  if (response.resultType === 'error') {
    verdicts.push({ decision: 'Error', errors: response.errors })
    continue
  }
  verdicts.push({ decision: response.overallResult, ...decisive(result?.analysis), ignoredContextKeys: ignored })
}
process.stdout.write(JSON.stringify(verdicts))
