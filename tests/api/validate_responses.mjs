// validate_responses.mjs SPEC EXCHANGES...: checks every response a test received from `oilcast serve`
// against docs/openapi.yaml (and every webhook request oilcast sent, a line with "webhook": its name,
// against that webhook's requestBody). Each EXCHANGES file holds the server's exchange log (OILCAST_EXCHANGE_LOG:
// one JSON line {"method","route","status","content_type","body"} per response). A response fails when
// its route and method are no operation of the spec, its status is not documented for that operation,
// its content type is not the documented one, or its JSON body does not validate against the schema
// of that operation and status (body null: a file or a stream, whose bytes the server did not keep).
// A request no route matched must be a 404 or 405 error. Prints one line per operation and status
// seen; exits 1 listing the first problems. Reads only; never talks to the server.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const [specPath, ...logPaths] = process.argv.slice(2);
if (!specPath || logPaths.length === 0) {
  console.error('usage: validate_responses.mjs SPEC EXCHANGES...');
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, 'utf8'), { uniqueKeys: true });

// Each component schema becomes an ajv schema of its own id, its refs rewritten to those ids.
const BASE = 'https://oilcast.invalid/openapi/';
const rewriteRefs = (node) => {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      out.$ref = BASE + value.slice('#/components/schemas/'.length);
    } else {
      out[key] = rewriteRefs(value);
    }
  }
  return out;
};
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addVocabulary(['example']); // OpenAPI's annotation, not JSON Schema's
for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
  ajv.addSchema({ ...rewriteRefs(schema), $id: BASE + name });
}
const validators = new Map();
const validatorFor = (schema) => {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) validators.set(key, ajv.compile(rewriteRefs(schema)));
  return validators.get(key);
};

const resolve = (node) => {
  if (!node?.$ref) return node;
  const target = node.$ref.replace(/^#\//, '').split('/').reduce((at, part) => at?.[part], spec);
  if (!target) throw new Error(`${specPath}: unresolved ${node.$ref}`);
  return resolve(target);
};

const errorSchema = { $ref: '#/components/schemas/Error' };
const problems = [];
const seen = new Map();
let count = 0;
for (const path of logPaths) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
  lines.forEach((line, index) => {
    const where = `${path}:${index + 1}`;
    const x = JSON.parse(line);
    count++;
    const problem = (text) => problems.push(`${where}: ${x.method} ${x.route} -> ${x.status}: ${text}`);
    const method = x.method === 'HEAD' ? 'get' : x.method.toLowerCase();
    const label = `${x.method} ${x.route} ${x.status}`;
    seen.set(label, (seen.get(label) ?? 0) + 1);
    let response;
    if (x.route === 'unmatched') {
      /* no route: 404 or 405; refused on arrival, before routing (a NUL in the path, conflicting
       * Content-Length: 400) or beyond the connection limit (503 overloaded) */
      if (![400, 404, 405, 503].includes(x.status)) return problem('an unmatched request must be 400, 404, 405 or 503');
      response = { content: { 'application/json': { schema: errorSchema } } };
    } else if (x.webhook) {
      /* a request oilcast sent (tests/api/webhook_sink.mjs): its body against the webhook's requestBody */
      response = resolve(spec.webhooks?.[x.webhook]?.post?.requestBody);
      if (!response) return problem(`no webhook '${x.webhook}' in the spec`);
    } else {
      const operation = spec.paths?.[x.route.replace('*}', '}')]?.[method];
      if (!operation) return problem('no such operation in the spec');
      response = resolve(operation.responses?.[String(x.status)]);
      if (!response) {
        return problem(`status not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
      }
    }
    const type = (x.content_type ?? '').split(';')[0].trim().toLowerCase();
    const media = response.content?.[type];
    if (!response.content) {
      if (x.body) problem(`a body where the spec documents none: ${x.body.slice(0, 200)}`);
      return;
    }
    if (!media) {
      return problem(`content type '${x.content_type}' (documented: ${Object.keys(response.content).join(', ')})`);
    }
    if (x.body === null || type !== 'application/json' || !media.schema) return;
    let body;
    try {
      body = JSON.parse(x.body);
    } catch (e) {
      return problem(`the body is not JSON (${e.message}): ${x.body.slice(0, 200)}`);
    }
    const validate = validatorFor(media.schema);
    if (!validate(body)) {
      const errors = validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
        (e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : '')).join('; ');
      problem(`${errors}\n    body: ${x.body.slice(0, 300)}`);
    }
  });
}

for (const [label, n] of [...seen.entries()].sort()) console.log(`  ${label}  x${n}`);
if (problems.length) {
  console.error(`${problems.length} of ${count} responses do not match ${specPath}:`);
  for (const p of problems.slice(0, 30)) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`validate_responses: ${count} responses match ${specPath}`);
