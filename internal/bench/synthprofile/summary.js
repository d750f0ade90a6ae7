// Summarizes a V8 CPU profile of jsii's kernel process during a synth
// (scripts/profile-synth.sh writes one): where the Node side's time goes,
// by kind of work and by the aws-cdk-lib and cdk-nag calls that contain it.
//
// Usage: node summary.js <file.cpuprofile>
'use strict';
const fs = require('fs');

const file = process.argv[2];
if (!file) {
  console.error('usage: node summary.js <file.cpuprofile>');
  process.exit(2);
}
const p = JSON.parse(fs.readFileSync(file, 'utf-8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);

// Sample time per node: each sample lasts until the next one.
const time = new Map();
for (let i = 0; i < p.samples.length; i++) {
  const d = p.timeDeltas[i + 1] || 0;
  time.set(p.samples[i], (time.get(p.samples[i]) || 0) + d);
}

const kind = (cf) => {
  if (cf.url.startsWith('wasm://')) return 'template validation (WASM engine)';
  if (cf.functionName === '(garbage collector)') return 'garbage collection';
  if (cf.functionName === 'read' && cf.url === '') return 'waiting for the Go side (blocking read)';
  if (cf.functionName === '(idle)' || cf.functionName === '(program)') return 'idle / V8 internal';
  if (cf.functionName === 'wrapSafe' || cf.functionName === 'compileFunction') return 'compiling modules (require)';
  const m = cf.url.match(/node_modules\/((@[^/]+\/)?[^/]+)\//);
  if (m) return 'JavaScript: ' + m[1];
  if (cf.url.startsWith('node:')) return 'JavaScript: Node.js internals';
  if (/jsii|program\.js/.test(cf.url)) return 'JavaScript: jsii kernel';
  return 'other native';
};

// Inclusive time of the frames that mark the phases of a synth.
const marks = [
  // Where the engine is created: in app.synth (aws-cdk-lib's default
  // instance), or earlier when the app registers the plugin itself
  // (compliance.ValidateTemplates).
  ['validation engine creation', (cf) => (cf.functionName === 'CloudFormationValidatePlugin' || cf.functionName === '_singletonInstance') && /cloudformation-validate-plugin\.js$/.test(cf.url)],
  ['app.synth', (cf) => cf.functionName === 'synth' && /core\/lib\/app\.js$/.test(cf.url)],
  ['  template validation', (cf) => cf.functionName === 'validate' && /cloudformation-validate-plugin\.js$/.test(cf.url)],
  ['  aspects (cdk-nag rules)', (cf) => cf.functionName === 'invokeAspectsV2'],
  ['    of which compiling modules', null],
  ['all require() calls', (cf) => cf.functionName === 'Module._load'],
];

const byKind = new Map();
const incl = new Map(marks.map(([k]) => [k, 0]));
let total = 0;
for (const [id, d] of time) {
  total += d;
  const leaf = byId.get(id).callFrame;
  byKind.set(kind(leaf), (byKind.get(kind(leaf)) || 0) + d);
  const seen = new Set();
  let inAspects = false;
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const cf = byId.get(x).callFrame;
    for (const [k, match] of marks) {
      if (match && !seen.has(k) && match(cf)) {
        seen.add(k);
        incl.set(k, incl.get(k) + d);
        if (k.includes('aspects')) inAspects = true;
      }
    }
  }
  if (inAspects && kind(leaf) === 'compiling modules (require)') {
    incl.set('    of which compiling modules', incl.get('    of which compiling modules') + d);
  }
}

const ms = (us) => (us / 1000).toFixed(0).padStart(7) + ' ms';
console.log(`profile: ${ms(total)} of samples in the kernel process`);
console.log('by kind of work:');
for (const [k, v] of [...byKind].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${ms(v)}  ${k}`);
console.log('inclusive time of synth phases:');
for (const [k] of marks) console.log(`  ${ms(incl.get(k))}  ${k}`);
