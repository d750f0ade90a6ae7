// Times CloudFormation template validation the way aws-cdk-lib 2.270.0 runs
// it in synth (its CloudFormationValidatePlugin: @aws/cloudformation-validate's
// RegoEngine with aws-cdk-lib's default Rego rules, the same ignored rules),
// on the templates of a cloud assembly: engine creation once, then every
// template twice (first, as synth does, and again, warm), with the engine's
// own phase metrics.
//
// Usage: node validationcost.js <aws-cdk-lib package dir> <cdk.out dir>
// scripts/bench-synth.sh finds the package in the jsii package cache.
'use strict';
const fs = require('fs');
const path = require('path');

const [libDir, outDir] = process.argv.slice(2);
if (!libDir || !outDir) {
  console.error('usage: node validationcost.js <aws-cdk-lib package dir> <cdk.out dir>');
  process.exit(2);
}
const cv = require(path.join(libDir, 'node_modules', '@aws', 'cloudformation-validate'));
const rulesDir = path.join(libDir, 'core', 'lib', 'validation', 'rules');
const customRules = fs.readdirSync(rulesDir).filter((f) => f.endsWith('.rego')).sort()
  .map((f) => ({ name: f, content: fs.readFileSync(path.join(rulesDir, f), 'utf-8') }));
// The rules aws-cdk-lib's plugin excludes (IGNORE_RULES in
// core/lib/validation/cloudformation-validate-plugin.js).
const ignore = ['W3005', 'W1020', 'E1018', 'W9002', 'W9013', 'E2001', 'W1103'];

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
let t = process.hrtime.bigint();
const engine = new cv.RegoEngine(customRules.length ? { customRules } : {});
const engineMs = ms(t);
const templates = fs.readdirSync(outDir).filter((f) => f.endsWith('.template.json')).sort();
const rows = [];
let phases;
for (const pass of ['first', 'warm']) {
  for (const f of templates) {
    const file = path.join(outDir, f);
    t = process.hrtime.bigint();
    const report = engine.validateDetailed(new cv.TemplateFile(file), {
      exclude: { ids: ignore, services: [{ ruleId: 'W3697', service: 'AWS::AutoScaling' }] },
      severityLevel: 'WARN',
    });
    const took = ms(t);
    phases = phases || report.performance;
    const resources = Object.keys(JSON.parse(fs.readFileSync(file, 'utf-8')).Resources || {}).length;
    rows.push({ pass, f, resources, took, diagnostics: report.diagnostics.length });
  }
}
const sum = (pass) => rows.filter((r) => r.pass === pass).reduce((a, r) => a + r.took, 0);
console.log(`engine creation: ${engineMs.toFixed(0)} ms` +
  (phases && phases.schemaInit ? ` (schema init ${phases.schemaInit.durationMs.toFixed(0)} ms, engine init ${phases.engineInit.durationMs.toFixed(0)} ms)` : ''));
for (const r of rows) {
  console.log(`${r.pass.padEnd(5)} ${r.f.padEnd(48)} ${String(r.resources).padStart(4)} resources ${r.took.toFixed(0).padStart(6)} ms  ${r.diagnostics} diagnostics`);
}
console.log(`templates, first pass: ${sum('first').toFixed(0)} ms; warm: ${sum('warm').toFixed(0)} ms`);
