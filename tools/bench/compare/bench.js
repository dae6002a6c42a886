// ONNX Runtime (npm onnxruntime-node) against this engine on the same model
// and the same token ids, run by run.sh.
//
//   node bench.js check --dir DIR [--n 512,1000]
//     runs base-fp32.onnx and base-int8.onnx on DIR/check/ids_N.i64 and prints
//     their largest differences to PyTorch and to the engine; exits 1 when
//     fp32 ONNX Runtime strays from PyTorch by more than 1e-3 * max|PyTorch|.
//   node bench.js time --dir DIR --build BUILD [--n 512,4096] [--rounds 3] [--repeat 5] [--threads 2]
//     times ONNX Runtime fp32 and int8 and the engine's f32, q8_0 and q8_c models
//     interleaved, round by round, and prints the table.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

function usage(msg) {
  process.stderr.write(`bench.js: ${msg}\nusage: node bench.js check|time --dir DIR [--build BUILD] [--n LIST] ` +
                       '[--rounds R] [--repeat R] [--threads T]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { mode: argv[0], dir: 'build/compare', build: 'build', n: null, rounds: 3, repeat: 5, threads: 2 };
  if (a.mode !== 'check' && a.mode !== 'time') usage('first argument must be check or time');
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a) || key === 'mode' || i + 1 >= argv.length) usage(`unknown or incomplete option ${argv[i]}`);
    a[key] = argv[i + 1];
  }
  a.n = (a.n || (a.mode === 'check' ? '512,1000' : '512,4096')).split(',').map(Number);
  for (const key of ['rounds', 'repeat', 'threads']) {
    a[key] = Number(a[key]);
    if (!Number.isInteger(a[key]) || a[key] < 1) usage(`--${key} must be a positive integer`);
  }
  if (a.n.some((n) => !Number.isInteger(n) || n <= 64)) usage('--n takes lengths above 64 (the Nystrom path)');
  return a;
}

// The ids nystrom-bench -m runs on: std::mt19937(11)() % vocab.
function sameIds(n, vocab) {
  const mt = new Uint32Array(624);
  mt[0] = 11;
  for (let i = 1; i < 624; i++) mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
  let next = 624;
  const draw = () => {
    if (next === 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      next = 0;
    }
    let y = mt[next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    return (y ^ (y >>> 18)) >>> 0;
  };
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(draw() % vocab);
  return ids;
}

function loadOrt(dir) {
  try {
    return require(path.resolve(dir, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    process.stderr.write(`bench.js: onnxruntime-node not found under ${dir}/node_modules (run.sh installs it): ${e.message}\n`);
    process.exit(1);
  }
}

function sessionOptions(threads) {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
           executionMode: 'sequential', executionProviders: ['cpu'] };
}

function readF32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`output sizes differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function check(a) {
  const ort = loadOrt(a.dir);
  let worst = 0;
  for (const kind of ['fp32', 'int8']) {
    const s = await ort.InferenceSession.create(path.join(a.dir, `base-${kind}.onnx`), sessionOptions(a.threads));
    for (const n of a.n) {
      const c = (name) => path.join(a.dir, 'check', name);
      const b = fs.readFileSync(c(`ids_${n}.i64`));
      const ids = new BigInt64Array(b.buffer, b.byteOffset, n);
      const out = (await s.run({ input_ids: new ort.Tensor('int64', ids, [1, n]) })).last_hidden_state.data;
      const torch = readF32(c(`torch_${n}.f32`));
      const engine = kind === 'fp32' ? 'f32' : 'q8_0';
      let limit = 0;
      for (const v of torch) limit = Math.max(limit, 1e-3 * Math.abs(v));
      const dTorch = maxAbsDiff(out, torch);
      const dEngine = maxAbsDiff(out, readF32(c(`engine_${engine}_${n}.f32`)));
      if (kind === 'fp32') worst = Math.max(worst, dTorch / limit);
      console.log(`n=${n}  max|ORT ${kind} - torch| = ${dTorch.toPrecision(3)}  ` +
                  `max|ORT ${kind} - engine ${engine}| = ${dEngine.toPrecision(3)}` +
                  (kind === 'fp32' ? `  (limit ${limit.toPrecision(3)})` : ''));
    }
  }
  if (worst > 1) {
    process.stderr.write('bench.js: the fp32 ONNX export does not compute what PyTorch computes\n');
    process.exit(1);
  }
}

function median(v) {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// One round of ONNX Runtime: a warm-up, then `repeat` timed runs; min and median in ms.
async function timeOrt(ort, session, ids, repeat) {
  const feeds = { input_ids: new ort.Tensor('int64', ids, [1, ids.length]) };
  await session.run(feeds);
  const t = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { min: Math.min(...t), median: median(t) };
}

// One round of the engine: nystrom-bench -m (its own warm-up, then `repeat` runs).
function timeEngine(a, model, n, extra = []) {
  const exe = path.join(a.build, 'nystrom-bench');
  const r = spawnSync(exe, ['-m', model, '--n', String(n), '--threads', String(a.threads),
                            '--repeat', String(a.repeat), '--json', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${exe} failed: ${r.error ? r.error.message : r.stderr.trim()}`);
  const j = JSON.parse(r.stdout);
  return { min: j.min_ms, median: j.median_ms, isa: j.isa, work: { gemm: j.gemm_gflop, attention: j.attention_gflop } };
}

// This machine's measured peaks at T threads (nystrom-bench --sections
// peak): the best level's f32 FMA rate and, where the CPU has VNNI, the
// int8 dot-product rate, in G op/s; null where a kind is not measured.
function measuredPeaks(a) {
  const exe = path.join(a.build, 'nystrom-bench');
  const r = spawnSync(exe, ['--sections', 'peak', '--threads', String(a.threads), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${exe} --sections peak failed: ${r.error ? r.error.message : r.stderr.trim()}`);
  const rows = JSON.parse(r.stdout).peak.filter((p) => p.threads === a.threads);
  const best = (kind) => Math.max(0, ...rows.filter((p) => p.kind === kind).map((p) => p.gflops)) || null;
  return { f32: best('f32_fma'), int8: best('int8_vnni') };
}

// The floors of one pass: its matrix products alone (nystrom-bench -m
// reports their operations: the linear layers' GEMMs and the attention's),
// all at the f32 peak, or with the GEMMs at the int8 peak. Norms, softmaxes,
// activations and the rest cost more on top, so no engine reaches a floor.
function floorsMs(work, peaks) {
  const ms = (gflop, gops) => gflop / gops * 1e3;
  return { f32: ms(work.gemm + work.attention, peaks.f32),
           int8: peaks.int8 ? ms(work.gemm, peaks.int8) + ms(work.attention, peaks.f32) : null };
}

function cpuFlags() {
  return (/^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8')) || ['', ''])[1].split(' ');
}

function cpuName() {
  const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  const flags = cpuFlags();
  const isa = ['avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_int8'].filter((f) => flags.includes(f));
  return `${m ? m[1] : os.cpus()[0].model}, ${os.cpus().length} CPUs (${isa.join(' ') || 'no AVX2'})`;
}

async function time(a) {
  const ort = loadOrt(a.dir);
  const ortVersion = require(path.resolve(a.dir, 'node_modules', 'onnxruntime-node', 'package.json')).version;
  const vocab = JSON.parse(fs.readFileSync(path.join(a.dir, 'hf', 'config.json'), 'utf8')).vocab_size;
  const sessions = {};
  for (const kind of ['fp32', 'int8'])
    sessions[kind] = await ort.InferenceSession.create(path.join(a.dir, `base-${kind}.onnx`), sessionOptions(a.threads));
  const configs = [
    { name: 'ONNX Runtime fp32', run: (n, ids) => timeOrt(ort, sessions.fp32, ids, a.repeat) },
    { name: 'engine f32', run: (n) => timeEngine(a, path.join(a.dir, 'base-f32.nyf'), n), vs: 'ONNX Runtime fp32' },
    { name: 'ONNX Runtime int8', run: (n, ids) => timeOrt(ort, sessions.int8, ids, a.repeat) },
    { name: 'engine q8_0', run: (n) => timeEngine(a, path.join(a.dir, 'base-q8_0.nyf'), n), vs: 'ONNX Runtime int8' },
    { name: 'engine q8_c', run: (n) => timeEngine(a, path.join(a.dir, 'base-q8_c.nyf'), n), vs: 'ONNX Runtime int8' },
  ];
  // Where the CPU has AVX-512 BF16, the fastest engine setting too: q8_c
  // with the Nystrom products in bf16 (elsewhere that runs slower than f32).
  if (cpuFlags().includes('avx512_bf16'))
    configs.push({ name: 'engine q8_c, bf16 attention',
                   run: (n) => timeEngine(a, path.join(a.dir, 'base-q8_c.nyf'), n, ['--attention-precision', 'bf16']),
                   vs: 'ONNX Runtime int8' });
  // The peaks first (a few seconds): a bench that cannot measure them
  // leaves the floors out of the report, not the timings.
  let peaks = null;
  try {
    peaks = measuredPeaks(a);
  } catch (e) {
    process.stderr.write(`bench.js: no floors in this report: ${e.message}\n`);
  }
  const started = new Date();
  const load0 = os.loadavg()[0];
  const results = {};  // name -> n -> [{min, median}] one per round
  let isa = '';
  for (let round = 0; round < a.rounds; round++) {
    for (const n of a.n) {
      const ids = sameIds(n, vocab);
      // Odd rounds run the list backwards, so no configuration always follows the same one.
      const order = round % 2 ? [...configs].reverse() : configs;
      for (const c of order) {
        const t = await c.run(n, ids);
        if (t.isa) isa = t.isa;
        ((results[c.name] = results[c.name] || {})[n] = results[c.name][n] || []).push(t);
        process.stderr.write(`round ${round + 1}/${a.rounds}  n=${n}  ${c.name}: min ${t.min.toFixed(1)} ms, ` +
                             `median ${t.median.toFixed(1)} ms\n`);
      }
    }
  }
  const summary = (name, n) => {
    const rounds = results[name][n];
    return { min: Math.min(...rounds.map((r) => r.min)), median: median(rounds.map((r) => r.median)) };
  };
  const lines = [];
  lines.push(`date: ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC   CPU: ${cpuName()}`);
  lines.push(`ONNX Runtime ${ortVersion} (onnxruntime-node, CPU EP, intra_op ${a.threads}, inter_op 1, all graph ` +
             `optimizations); engine nystrom-bench -m, ${isa}, --threads ${a.threads}`);
  lines.push(`${a.rounds} interleaved rounds x (1 warm-up + ${a.repeat} runs); min = fastest run, median = median ` +
             `of the rounds' medians; load average ${load0.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end`);
  lines.push('');
  lines.push('| | ' + a.n.map((n) => `n = ${n}: min / median ms | tokens/s (min) | vs ORT (min / median)`).join(' | ') + ' |');
  lines.push('| --- |' + ' --- | --- | --- |'.repeat(a.n.length));
  for (const c of configs) {
    const cells = a.n.map((n) => {
      const t = summary(c.name, n);
      let ratio = '';
      if (c.vs) {
        const o = summary(c.vs, n);
        ratio = `${(o.min / t.min).toFixed(2)}x / ${(o.median / t.median).toFixed(2)}x`;
      }
      return `${t.min.toFixed(1)} / ${t.median.toFixed(1)} | ${Math.round(n / t.min * 1000)} | ${ratio}`;
    });
    lines.push(`| ${c.name} | ${cells.join(' | ')} |`);
  }
  // Issue #14's goals beside what the hardware allows: a goal under its
  // floor cannot be met on this machine by any engine.
  const floors = {};
  if (peaks && peaks.f32) {
    lines.push('');
    lines.push(`Floors at this machine's measured peaks (nystrom-bench --sections peak, ${a.threads} threads: f32 ` +
               `${peaks.f32.toFixed(0)} GFLOP/s, int8 ${peaks.int8 ? peaks.int8.toFixed(0) + ' G op/s' : 'not measured'}); ` +
               'a goal below 1.00x of its floor is out of reach here:');
    lines.push('');
    lines.push('| n | f32 floor ms | goal 1.3x ORT fp32: ms (x floor) | engine f32 (x floor) | int8 floor ms | ' +
               'goal 1.5x ORT int8: ms (x floor) | engine q8_c (x floor) |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const n of a.n) {
      const f = (floors[n] = floorsMs(results['engine f32'][n][0].work, peaks));
      const cell = (ms, floor) => (floor ? `${ms.toFixed(1)} (${(ms / floor).toFixed(2)}x)` : '');
      const f32Goal = summary('ONNX Runtime fp32', n).min / 1.3, int8Goal = summary('ONNX Runtime int8', n).min / 1.5;
      lines.push(`| ${n} | ${f.f32.toFixed(1)} | ${cell(f32Goal, f.f32)} | ${cell(summary('engine f32', n).min, f.f32)} | ` +
                 `${f.int8 ? f.int8.toFixed(1) : 'n/a'} | ${cell(int8Goal, f.int8)} | ` +
                 `${cell(summary('engine q8_c', n).min, f.int8)} |`);
    }
  }
  console.log(lines.join('\n'));
  fs.writeFileSync(path.join(a.dir, 'results.json'),
                   JSON.stringify({ date: started.toISOString(), cpu: cpuName(), ort: ortVersion, isa,
                                    threads: a.threads, rounds: a.rounds, repeat: a.repeat, peaks, floors_ms: floors,
                                    results }, null, 1));
}

const args = parseArgs(process.argv.slice(2));
(args.mode === 'check' ? check(args) : time(args)).catch((e) => {
  process.stderr.write(`bench.js: ${e.message}\n`);
  process.exit(1);
});
