#!/usr/bin/env node
// Warm, in-process timing of the Node.js reference (ref_node.js, kept outside this
// repository; lab/README.md says what it is): its
// per-record function called in a loop in one process, as a warm Lambda calls its
// handler, so that start-up is not counted.
//
// The reference is a script (it reads its event and writes the response when loaded)
// and takes the mode from process.argv at load time. It is loaded unmodified, as the
// body of a function whose `process` gives it that argv and a stdout that discards:
// loading it runs it once on the event (a first warm-up), and hands back its
// `processRecord`, with the mode bound as the script itself binds it.
//
// One invocation = what the Node.js runtime and the handler do between receiving the
// payload and handing back the response bytes: JSON.parse of the event, the
// reference's processRecord for every record, JSON.stringify of the response (exactly
// what the reference writes) and its UTF-8 encoding.
//
// usage: node warm_refs.js EVENT.json [--mode json|message] [--iterations N]
//                                     [--warmup N] [--out FILE]
// The reference is $REF_NODE (lab/warm_compare.sh sets it from $BENCH_REFS).
// Prints one JSON object: median_ms, median_cpu_ms, min_ms, max_ms, iterations,
// peak_rss_mib.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

function parseArgs(argv) {
  const a = { mode: 'json', iterations: 20, warmup: 1, out: null, event: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--mode') a.mode = argv[++i];
    else if (k === '--iterations') a.iterations = Math.max(1, parseInt(argv[++i], 10));
    else if (k === '--warmup') a.warmup = parseInt(argv[++i], 10);
    else if (k === '--out') a.out = argv[++i];
    else if (a.event === null) a.event = k;
    else throw new Error(`unexpected argument ${k}`);
  }
  if (a.event === null || !['json', 'message'].includes(a.mode)) {
    throw new Error('usage: warm_refs.js EVENT.json [--mode json|message] [--iterations N]');
  }
  return a;
}

function load(refPath, eventPath, mode) {
  // A shebang is only valid at the start of a script, not in a function body.
  const source = fs.readFileSync(refPath, 'utf8').replace(/^#!.*/, '');
  const body = `${source}\n;return processRecord;`;
  const fn = vm.compileFunction(body, ['require', 'process'], { filename: refPath });
  const fakeProcess = {
    argv: [process.argv[0], refPath, eventPath, '--mode', mode],
    stdout: { write: () => true },
  };
  return fn(require, fakeProcess);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const refPath = process.env.REF_NODE || '';
  if (!refPath || !fs.existsSync(refPath)) {
    process.stderr.write('warm_refs.js: REF_NODE must name the Node.js reference '
      + `(ref_node.js; see lab/README.md), not ${JSON.stringify(refPath)}\n`);
    process.exit(2);
  }
  const processRecord = load(refPath, args.event, args.mode);
  const payload = fs.readFileSync(args.event, 'utf8');

  const invoke = () => {
    const event = JSON.parse(payload);
    return Buffer.from(JSON.stringify({ records: event.records.map(processRecord) }), 'utf8');
  };

  let out = null;
  for (let i = 0; i < args.warmup; i++) out = invoke();
  const times = [];
  const cpu = [];
  for (let i = 0; i < args.iterations; i++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    out = invoke();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    // The whole process's user + system time (V8's GC and compiler threads too).
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1e3);
  }
  if (args.out) fs.writeFileSync(args.out, out);
  const median = (v) => {
    const s = [...v].sort((x, y) => x - y);
    const k = s.length;
    return k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
  };
  const sorted = [...times].sort((x, y) => x - y);
  const n = sorted.length;
  process.stdout.write(`${JSON.stringify({
    impl: 'node',
    reference: path.resolve(refPath),
    mode: args.mode,
    iterations: n,
    median_ms: median(times),
    median_cpu_ms: median(cpu),
    min_ms: sorted[0],
    max_ms: sorted[n - 1],
    // maxRSS is in KiB.
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  })}\n`);
}

main();
