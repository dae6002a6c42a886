// Builds the reference tokenizer cases in tests/data/tokenizers/<kind>/ with the
// Hugging Face `tokenizers` library itself (its Node.js binding, npm package
// `tokenizers`), so that the C++ tests compare against the real thing:
//
//   1. a model is trained by the library on the first TRAIN_LINES lines of
//      tests/data/tokenizers/corpus.txt (the binding's `train` uses the model's
//      default trainer, which it does not let one configure);
//   2. the saved tokenizer.json is then edited here: special tokens put into
//      the vocabulary, the vocabulary or merges cut down to keep the files
//      small, and the pipeline (normalizer, pre-tokenizer, post-processor,
//      decoder, added tokens) set to the configuration under test;
//   3. the edited file is loaded back by the library, which encodes the
//      kind's share of the corpus lines; those ids are the expected ones.
//
// Files written per kind: tokenizer.json (as the library saves it), or for
// the kinds without one the files transformers reads instead (vocab.txt,
// vocab.json + merges.txt, tokenizer_config.json), and expected.txt:
//   line 1: "template <ids before> $A <ids after>": encode(text, true) is
//           always those ids around encode(text, false) (checked here);
//   then one line per case: "<corpus line number> <tab> <ids>" (the ids of
//   encode(text, false), space-separated; empty for no ids); then edge
//   texts: "<name> <tab> <ids> <tab> <the text as a JSON string, or the long
//   word's recipe as a JSON object>" (see writeCases);
// and decoded.json: [[line number, decode(ids with special tokens, skip
// special = true)], ...] for the first DECODE_LINES cases.
//
// Usage (Node 20; the package is installed outside the repository):
//   mkdir -p /tmp/hftok && cd /tmp/hftok && npm install --ignore-scripts tokenizers
//   NODE_PATH=/tmp/hftok/node_modules node tools/text/make_tokenizer_cases.mjs [--retrain | --retrain=<kind>]
// Retraining the albert_precompiled kind also needs SentencePiece's spm_train
// (Debian package sentencepiece).
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const hf = require('tokenizers');

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const OUT = path.join(ROOT, 'tests/data/tokenizers');
const TRAIN_LINES = 250;
const EDGE_LINES = 24;       // the corpus generator's fixed edge cases come first
const DECODE_LINES = 60;
// The trainers break ties in Rust's randomly seeded hash order, so training
// again gives other (equally valid) vocabularies: existing tokenizer.json
// files are kept and only encoded again unless --retrain is given.
// --retrain=<kind> trains that kind only.
const RETRAIN_KIND = (process.argv.find((a) => a.startsWith('--retrain=')) || '').slice('--retrain='.length);
const RETRAIN = process.argv.includes('--retrain');
// A 100000-character word, written in the case files as this recipe.
const LONG_WORD = { unit: 'unbelievable', count: 8333, tail: 'abcd' };
const longWordText = LONG_WORD.unit.repeat(LONG_WORD.count) + LONG_WORD.tail;

const corpus = fs.readFileSync(path.join(OUT, 'corpus.txt'), 'utf8').split('\n');
if (corpus[corpus.length - 1] === '') corpus.pop();
const trainFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hftok-')), 'train.txt');
fs.writeFileSync(trainFile, corpus.slice(0, TRAIN_LINES).join('\n') + '\n');

// ------------------------------------------------------------ training

function train(model, { normalizer = null, preTokenizer = null } = {}) {
  const tok = new hf.Tokenizer(model);
  if (normalizer) tok.setNormalizer(normalizer);
  if (preTokenizer) tok.setPreTokenizer(preTokenizer);
  tok.train([trainFile]);
  const file = trainFile + '.json';
  tok.save(file);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// ------------------------------------------------------ editing helpers

function addedToken(content, id, extra = {}) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra };
}

// A {token: id} vocabulary with `first` tokens at ids 0.. and the others
// after them in their old order, keeping only the first `keep` of those.
function renumber(vocab, first, keep = Infinity) {
  const rest = Object.entries(vocab).filter(([t]) => !first.includes(t)).sort((a, b) => a[1] - b[1]).slice(0, keep);
  const out = {};
  first.forEach((t, i) => { out[t] = i; });
  rest.forEach(([t], i) => { out[t] = first.length + i; });
  return out;
}

// BPE merges cut to the first `keep`, and the vocabulary to the tokens
// those merges (and the initial alphabet) can make, plus `extra` tokens.
function cutBpe(model, keep, first, extra = []) {
  const merges = model.merges.slice(0, keep).map((m) => (Array.isArray(m) ? m : m.split(' ')));
  const made = new Set(merges.map(([a, b]) => a + b));
  const mergedEver = new Set(model.merges.map((m) => (Array.isArray(m) ? m : m.split(' '))).map(([a, b]) => a + b));
  const kept = {};
  for (const [t, id] of Object.entries(model.vocab)) if (!mergedEver.has(t) || made.has(t)) kept[t] = id;
  model.vocab = renumber(kept, first);
  let next = Object.keys(model.vocab).length;
  for (const t of extra) if (!(t in model.vocab)) model.vocab[t] = next++;
  model.merges = merges;
}

const template = (before, after) => ({
  type: 'TemplateProcessing',
  single: [
    ...before.map(([t]) => ({ SpecialToken: { id: t, type_id: 0 } })),
    { Sequence: { id: 'A', type_id: 0 } },
    ...after.map(([t]) => ({ SpecialToken: { id: t, type_id: 0 } })),
  ],
  pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: Object.fromEntries([...before, ...after].map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
});

const bytes = (pred) => Array.from({ length: 256 }, (_, b) => b).filter(pred)
  .map((b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

// ---------------------------------------------------------------- kinds

const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const ROBERTA_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'];
const ALBERT_SPECIALS = ['<pad>', '<unk>', '[CLS]', '[SEP]', '[MASK]'];
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const kinds = {
  // BERT uncased: BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP];
  // a normalized added word and a single-word one.
  wordpiece() {
    const j = train(hf.WordPiece.empty(), { normalizer: hf.bertNormalizer(), preTokenizer: hf.bertPreTokenizer() });
    j.model.vocab = renumber(j.model.vocab, BERT_SPECIALS, 1500);
    const n = Object.keys(j.model.vocab).length;
    j.added_tokens = [
      ...BERT_SPECIALS.map((t, i) => addedToken(t, i, t === '[MASK]' ? { rstrip: true } : {})),
      addedToken('Naïve Café', n, { normalized: true, special: false }),
      addedToken('the', n + 1, { normalized: true, special: false, single_word: true }),
    ];
    j.post_processor = template([['[CLS]', 2]], [['[SEP]', 3]]);
    j.decoder = { type: 'WordPiece', prefix: '##', cleanup: true };
    return j;
  },

  // Cased WordPiece: NFC then BertNormalizer without lower-casing or Chinese
  // spacing; whitespace, contiguous punctuation and single digits; short
  // max_input_chars_per_word; BertProcessing.
  wordpiece_cased() {
    const normalizer = hf.sequenceNormalizer([
      hf.nfcNormalizer(),
      hf.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false }),
    ]);
    const preTokenizer = hf.sequencePreTokenizer([
      hf.whitespaceSplitPreTokenizer(), hf.punctuationPreTokenizer('contiguous'), hf.digitsPreTokenizer(true),
    ]);
    const j = train(hf.WordPiece.empty(), { normalizer, preTokenizer });
    j.model.vocab = renumber(j.model.vocab, BERT_SPECIALS, 1200);
    j.model.max_input_chars_per_word = 12;
    j.added_tokens = BERT_SPECIALS.map((t, i) => addedToken(t, i));
    j.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] };
    j.decoder = { type: 'WordPiece', prefix: '##', cleanup: false };
    return j;
  },

  // RoBERTa: byte-level BPE without a prefix space, <s> $A </s>, <mask>
  // swallowing the space before it.
  bpe() {
    const j = train(hf.BPE.empty(), { preTokenizer: hf.byteLevelPreTokenizer(false, true) });
    cutBpe(j.model, 1500, ROBERTA_SPECIALS, ['<mask>']);
    const mask = j.model.vocab['<mask>'];
    j.added_tokens = [...ROBERTA_SPECIALS.map((t, i) => addedToken(t, i)), addedToken('<mask>', mask, { lstrip: true })];
    j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    j.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false };
    j.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    return j;
  },

  // GPT-2 style: NFKC, the GPT-2 pattern as an explicit Split, then
  // ByteLevel with a prefix space and no regex of its own; ignore_merges;
  // a Sequence post-processor (ByteLevel, then a template).
  bpe_gpt2() {
    const j = train(hf.BPE.empty(), { preTokenizer: hf.byteLevelPreTokenizer(true, true) });
    cutBpe(j.model, 700, ['<|endoftext|>']);
    j.model.ignore_merges = true;
    j.added_tokens = [addedToken('<|endoftext|>', 0)];
    j.normalizer = { type: 'NFKC' };
    j.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: GPT2_REGEX }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: false },
      ],
    };
    j.post_processor = {
      type: 'Sequence',
      processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        template([], [['<|endoftext|>', 0]])],
    };
    j.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    return j;
  },

  // Character BPE over Whitespace words after NFKD, accent stripping and
  // lower-casing; unknown characters fused into one <unk>, some of them
  // spelled as bytes instead (byte_fallback with part of the byte tokens).
  bpe_chars() {
    const normalizer = hf.sequenceNormalizer([hf.nfkdNormalizer(), hf.stripAccentsNormalizer(), hf.lowercase()]);
    const j = train(hf.BPE.empty(), { normalizer, preTokenizer: hf.whitespacePreTokenizer() });
    const byteTokens = bytes((b) => b < 0xC0 || b === 0xCE || b === 0xD0 || b === 0xE3 || b === 0xF0);
    cutBpe(j.model, 600, ['<unk>'], byteTokens);
    Object.assign(j.model, { unk_token: '<unk>', fuse_unk: true, byte_fallback: true });
    j.added_tokens = [addedToken('<unk>', 0)];
    j.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] };
    return j;
  },

  // ALBERT without the precompiled map: quotes replaced, NFKD, accents
  // stripped, lower-cased, runs of spaces collapsed by a regex; Metaspace;
  // Unigram; [CLS] $A [SEP].
  unigram() {
    const j = train(hf.Unigram.empty(), { preTokenizer: hf.metaspacePreTokenizer('▁', 'always', true) });
    const pieces = j.model.vocab.filter(([p]) => !ALBERT_SPECIALS.includes(p)).slice(0, 1200);
    j.model.vocab = [...ALBERT_SPECIALS.map((p) => [p, 0.0]), ...pieces];
    j.model.unk_id = 1;
    j.added_tokens = ALBERT_SPECIALS.map((t, i) => addedToken(t, i));
    j.normalizer = {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { String: '``' }, content: '"' },
        { type: 'Replace', pattern: { String: "''" }, content: '"' },
        { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    };
    j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    j.post_processor = template([['[CLS]', 2]], [['[SEP]', 3]]);
    j.decoder = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    return j;
  },

  // Llama style: no pre-tokenizer; the normalizer prepends "▁" and writes
  // spaces as "▁"; Unigram with byte fallback; <s> $A; the decoder undoes
  // it (Replace, ByteFallback, Fuse, Strip).
  unigram_bytes() {
    const j = train(hf.Unigram.empty(), { preTokenizer: hf.metaspacePreTokenizer('▁', 'always', false) });
    const pieces = j.model.vocab.filter(([p]) => p !== '<unk>').slice(0, 900);
    const low = Math.min(...pieces.map(([, s]) => s)) - 1;
    j.model.vocab = [['<unk>', 0.0], ['<s>', 0.0], ['</s>', 0.0], ...bytes(() => true).map((b) => [b, low]), ...pieces];
    Object.assign(j.model, { unk_id: 0, byte_fallback: true });
    j.added_tokens = ['<unk>', '<s>', '</s>'].map((t, i) => addedToken(t, i));
    j.normalizer = {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }],
    };
    j.pre_tokenizer = null;
    j.post_processor = template([['<s>', 1]], []);
    j.decoder = {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    };
    return j;
  },

  // WordLevel over Whitespace words and single digits after NFD, accent
  // stripping and lower-casing; [CLS] $A.
  wordlevel() {
    const normalizer = hf.sequenceNormalizer([hf.nfdNormalizer(), hf.stripAccentsNormalizer(), hf.lowercase()]);
    const preTokenizer = hf.sequencePreTokenizer([hf.whitespacePreTokenizer(), hf.digitsPreTokenizer(true)]);
    const j = train(hf.WordLevel.empty(), { normalizer, preTokenizer });
    j.model.vocab = renumber(j.model.vocab, BERT_SPECIALS, 700);
    j.model.unk_token = '[UNK]';
    j.added_tokens = BERT_SPECIALS.map((t, i) => addedToken(t, i));
    j.post_processor = template([['[CLS]', 2]], []);
    return j;
  },
};

// ----------------------------------------------- kinds without tokenizer.json
// The files transformers' slow tokenizers read, taken from a kind above,
// and the pipeline its fast tokenizers build from them (BertConverter,
// RobertaConverter), assembled here with the library's own parts.

function vocabInOrder(vocab) {
  return Object.entries(vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
}

const fileKinds = {
  // vocab.txt alone: BertTokenizerFast's defaults (lower-casing).
  async bert_vocab_txt(dir) {
    const j = JSON.parse(fs.readFileSync(path.join(OUT, 'wordpiece/tokenizer.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'vocab.txt'), vocabInOrder(j.model.vocab).join('\n') + '\n');
    const tok = new hf.Tokenizer(await hf.WordPiece.fromFile(path.join(dir, 'vocab.txt'), { unkToken: '[UNK]' }));
    tok.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true }));
    tok.setPreTokenizer(hf.bertPreTokenizer());
    tok.setPostProcessor(hf.templateProcessing('[CLS] $A [SEP]', null, [['[CLS]', 2], ['[SEP]', 3]]));
    tok.setDecoder(hf.wordPieceDecoder('##', true));
    tok.addAddedTokens(BERT_SPECIALS.map((t) => new hf.AddedToken(t, true)));
    return { tok, files: ['vocab.txt'] };
  },

  // A cased vocab.txt with tokenizer_config.json: no lower-casing, accents
  // stripped all the same, no Chinese spacing.
  async bert_cased_files(dir) {
    const j = JSON.parse(fs.readFileSync(path.join(OUT, 'wordpiece_cased/tokenizer.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'vocab.txt'), vocabInOrder(j.model.vocab).join('\n') + '\n');
    const config = { do_lower_case: false, strip_accents: true, tokenize_chinese_chars: false, model_max_length: 512 };
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
    const tok = new hf.Tokenizer(await hf.WordPiece.fromFile(path.join(dir, 'vocab.txt'), { unkToken: '[UNK]' }));
    tok.setNormalizer(hf.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: true, lowercase: false }));
    tok.setPreTokenizer(hf.bertPreTokenizer());
    tok.setPostProcessor(hf.templateProcessing('[CLS] $A [SEP]', null, [['[CLS]', 2], ['[SEP]', 3]]));
    tok.setDecoder(hf.wordPieceDecoder('##', true));
    tok.addAddedTokens(BERT_SPECIALS.map((t) => new hf.AddedToken(t, true)));
    return { tok, files: ['vocab.txt', 'tokenizer_config.json'] };
  },

  // vocab.json + merges.txt: RobertaTokenizerFast.
  async roberta_files(dir) {
    const j = JSON.parse(fs.readFileSync(path.join(OUT, 'bpe/tokenizer.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(j.model.vocab) + '\n');
    const merges = j.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
    fs.writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\n' + merges.join('\n') + '\n');
    const tok = new hf.Tokenizer(await hf.BPE.fromFile(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt')));
    tok.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
    tok.setPostProcessor(hf.robertaProcessing(['</s>', 2], ['<s>', 0], true, false));
    tok.addAddedTokens([...ROBERTA_SPECIALS.map((t) => new hf.AddedToken(t, true)),
      new hf.AddedToken('<mask>', true, { leftStrip: true })]);
    // The binding has no ByteLevel decoder constructor: set it in the JSON.
    const file = path.join(os.tmpdir(), `roberta-${process.pid}.json`);
    tok.save(file);
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    json.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    return { tok: hf.Tokenizer.fromString(JSON.stringify(json)), files: ['vocab.json', 'merges.txt'] };
  },
};

// ------------------------------------------- a SentencePiece model's parts

// Reads the fields of one protobuf message: [field, wire type, value].
function protoFields(buf) {
  const out = [];
  let pos = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) {
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3, wire = key & 7;
    if (wire === 0) out.push([field, wire, varint()]);
    else if (wire === 1) { out.push([field, wire, buf.subarray(pos, pos + 8)]); pos += 8; }
    else if (wire === 2) { const n = Number(varint()); out.push([field, wire, buf.subarray(pos, pos + n)]); pos += n; }
    else if (wire === 5) { out.push([field, wire, buf.readFloatLE(pos)]); pos += 4; }
    else throw new Error(`protobuf wire type ${wire}`);
  }
  return out;
}

// The pieces (ModelProto field 1: piece, score) and the normalizer's
// precompiled_charsmap (field 3, its field 2) of a .model file.
function readSpmModel(file) {
  const pieces = [];
  let charsmap = Buffer.alloc(0);
  for (const [field, , value] of protoFields(fs.readFileSync(file))) {
    if (field === 1) {
      let piece = '', score = 0;
      for (const [f, , v] of protoFields(value)) {
        if (f === 1) piece = Buffer.from(v).toString('utf8');
        if (f === 2) score = v;
      }
      pieces.push([piece, score]);
    } else if (field === 3) {
      for (const [f, , v] of protoFields(value)) if (f === 2) charsmap = Buffer.from(v);
    }
  }
  return { pieces, charsmap };
}

// Normalization rules for spm_train (source and target code points in hex),
// a small stand-in for nmt_nfkc whose map would be 250 KB: compatibility
// letters, spaces, a deleted character, multi-character sources, and one
// source that is the prefix of another.
const SPM_RULES = [
  ['FB01', '66 69'], ['FB02', '66 6C'], ['2026', '2E 2E 2E'], ['2460', '31'], ['2461', '32'], ['B2', '32'],
  ['A0', '20'], ['3000', '20'], ['9', '20'], ['2003', '20'], ['200B', ''], ['FEFF', ''],
  ['65 301', 'E9'], ['45 301', 'C9'], ['41 30A', 'C5'], ['6E 303', 'F1'], ['1E9B 323', '1E69'],
  ['2C', '2C'], ['2C 2C', '2C'], ['201C', '22'], ['201D', '22'],
  ...Array.from({ length: 26 }, (_, i) => [(0xFF21 + i).toString(16).toUpperCase(), (0x41 + i).toString(16).toUpperCase()]),
  ...Array.from({ length: 26 }, (_, i) => [(0xFF41 + i).toString(16).toUpperCase(), (0x61 + i).toString(16).toUpperCase()]),
];

// ALBERT as transformers converts it (AlbertConverter): quotes, NFKD,
// accents stripped, lower-cased, the SentencePiece map ("Precompiled"),
// runs of spaces collapsed; Metaspace; Unigram; [CLS] $A [SEP]; [MASK]
// taking the space before it.
kinds.albert_precompiled = () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spm-'));
  const rules = path.join(work, 'rules.tsv');
  fs.writeFileSync(rules, SPM_RULES.map(([a, b]) => `${a}\t${b}`).join('\n') + '\n');
  execFileSync('spm_train', [`--input=${trainFile}`, `--model_prefix=${work}/m`, '--vocab_size=900',
    '--model_type=unigram', `--normalization_rule_tsv=${rules}`, '--pad_id=0', '--unk_id=1', '--bos_id=-1',
    '--eos_id=-1', '--control_symbols=[CLS],[SEP],[MASK]', '--num_threads=1', '--minloglevel=2'], { stdio: 'ignore' });
  const { pieces, charsmap } = readSpmModel(`${work}/m.model`);
  // Kept too: the C++ tests load it as spiece.model (the files-only path).
  fs.mkdirSync(path.join(OUT, 'albert_precompiled'), { recursive: true });
  fs.copyFileSync(`${work}/m.model`, path.join(OUT, 'albert_precompiled/spiece.model'));
  if (pieces[2][0] !== '[CLS]' || pieces[3][0] !== '[SEP]' || pieces[4][0] !== '[MASK]') throw new Error('spm ids');
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [...['<pad>', '<unk>', '[CLS]', '[SEP]'].map((t, i) => addedToken(t, i)),
      addedToken('[MASK]', 4, { lstrip: true })],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { String: '``' }, content: '"' },
        { type: 'Replace', pattern: { String: "''" }, content: '"' },
        { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
        { type: 'Precompiled', precompiled_charsmap: charsmap.toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: template([['[CLS]', 2]], [['[SEP]', 3]]),
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 1, vocab: pieces, byte_fallback: false },
  };
};

// ------------------------------------------------------------- encoding

const KIND_COUNT = Object.keys(kinds).length + Object.keys(fileKinds).length;

function caseLines(kindIndex) {
  const lines = [];
  for (let i = 0; i < EDGE_LINES; ++i) lines.push(i);
  // Each other line is encoded by one kind.
  for (let i = EDGE_LINES + kindIndex; i < corpus.length; i += KIND_COUNT) lines.push(i);
  return lines;
}

const sameIds = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function writeCases(kind, kindIndex, tok, files) {
  const dir = path.join(OUT, kind);
  let before = null, after = null;
  const rows = [], decoded = [];
  for (const n of caseLines(kindIndex)) {
    const plain = (await tok.encode(corpus[n], null, { addSpecialTokens: false })).getIds();
    const full = (await tok.encode(corpus[n], null, { addSpecialTokens: true })).getIds();
    // Locate the text's ids inside the full ones: the template's ids are
    // the same for every line (the first case line has some text ids).
    if (before === null) {
      let at = -1;
      for (let k = 0; k + plain.length <= full.length && at < 0; ++k)
        if (plain.length && sameIds(full.slice(k, k + plain.length), plain)) at = k;
      if (at < 0) throw new Error(`${kind}: line ${n}: cannot find the template`);
      [before, after] = [full.slice(0, at), full.slice(at + plain.length)];
    }
    if (!sameIds(full, [...before, ...plain, ...after])) throw new Error(`${kind}: line ${n}: template differs`);
    rows.push(`${n}\t${plain.join(' ')}`);
    if (decoded.length < DECODE_LINES) decoded.push([n, await tok.decode(full, true)]);
  }
  // Edge texts: empty, blank, the long word, all the added tokens written
  // one after the other and with spaces. Ids of more than 1000 are stored
  // as "#<count> <FNV-1a of the ids as decimal text joined by spaces>".
  const saved = path.join(os.tmpdir(), `saved-${process.pid}.json`);
  tok.save(saved);
  const specials = JSON.parse(fs.readFileSync(saved, 'utf8')).added_tokens.filter((t) => t.special).map((t) => t.content);
  const edges = { empty: '', blank: ' \t\n \u3000 ', long_word: longWordText, specials: specials.join(''),
    spaced_specials: ` ${specials.join('  ')} ` };
  for (const [name, textOf] of Object.entries(edges)) {
    const ids = (await tok.encode(textOf, null, { addSpecialTokens: false })).getIds();
    const idsText = ids.join(' ');
    const written = JSON.stringify(name === 'long_word' ? LONG_WORD : textOf);
    rows.push(`${name}\t${ids.length > 1000 ? `#${ids.length} ${fnv1a(idsText)}` : idsText}\t${written}`);
  }
  const expected = `template ${[...before, '$A', ...after].join(' ')}\n${rows.join('\n')}\n`;
  fs.writeFileSync(path.join(dir, 'expected.txt'), expected);
  fs.writeFileSync(path.join(dir, 'decoded.json'), JSON.stringify(decoded) + '\n');
  const size = [...files, 'expected.txt', 'decoded.json'].reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
  console.log(`${kind}: ${rows.length} lines, vocabulary ${tok.getVocabSize(true)}, ${size} bytes`);
  return size;
}

let total = 0, kindIndex = 0;
for (const [kind, build] of Object.entries(kinds)) {
  const dir = path.join(OUT, kind);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tokenizer.json');
  if (RETRAIN || RETRAIN_KIND === kind || !fs.existsSync(file)) hf.Tokenizer.fromString(JSON.stringify(build())).save(file);
  const tok = hf.Tokenizer.fromFile(file);
  total += await writeCases(kind, kindIndex++, tok, ['tokenizer.json']);
}
for (const [kind, build] of Object.entries(fileKinds)) {
  const dir = path.join(OUT, kind);
  fs.mkdirSync(dir, { recursive: true });
  const { tok, files } = await build(dir);
  total += await writeCases(kind, kindIndex++, tok, files);
}

// ----------------------------------------------- normalizers, pre-tokenizers
// tests/data/tokenizers/components.json: each normalizer and pre-tokenizer
// configuration (as tokenizer.json writes it) with what the library makes of
// the edge lines, empty and blank text and a 100000-character word.

function componentJson(set) {
  const tok = new hf.Tokenizer(hf.WordLevel.empty());
  set(tok);
  const file = path.join(os.tmpdir(), `component-${process.pid}.json`);
  tok.save(file);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const albertJson = JSON.parse(fs.readFileSync(path.join(OUT, 'albert_precompiled/tokenizer.json'), 'utf8'));
const precompiledMap = Buffer.from(
  albertJson.normalizer.normalizers.find((n) => n.type === 'Precompiled').precompiled_charsmap, 'base64');

const normalizers = [
  hf.bertNormalizer(), hf.bertNormalizer({ lowercase: false, stripAccents: true }),
  hf.bertNormalizer({ cleanText: false, handleChineseChars: false, lowercase: false }),
  hf.nfcNormalizer(), hf.nfdNormalizer(), hf.nfkcNormalizer(), hf.nfkdNormalizer(), hf.lowercase(),
  hf.stripAccentsNormalizer(), hf.nmt(), hf.replace('a', 'bb'), hf.replace('  ', ''), hf.stripNormalizer(true, false),
  hf.stripNormalizer(false, true), hf.prependNormalizer('▁'), hf.precompiled(Array.from(precompiledMap)),
  hf.sequenceNormalizer([hf.nfkdNormalizer(), hf.stripAccentsNormalizer(), hf.lowercase()]),
];
const behaviors = ['removed', 'isolated', 'mergedWithPrevious', 'mergedWithNext', 'contiguous'];
const preTokenizers = [
  hf.bertPreTokenizer(), hf.whitespacePreTokenizer(), hf.whitespaceSplitPreTokenizer(),
  hf.byteLevelPreTokenizer(true, true), hf.byteLevelPreTokenizer(false, false),
  hf.metaspacePreTokenizer('▁', 'always', true), hf.metaspacePreTokenizer('▁', 'first', true),
  hf.metaspacePreTokenizer('_', 'never', false), hf.digitsPreTokenizer(true), hf.digitsPreTokenizer(false),
  hf.charDelimiterSplit('a'), ...behaviors.map((b) => hf.punctuationPreTokenizer(b)),
  ...behaviors.map((b) => hf.splitPreTokenizer(' ', b, false)), hf.splitPreTokenizer('ab', 'isolated', true),
  hf.sequencePreTokenizer([hf.whitespaceSplitPreTokenizer(), hf.digitsPreTokenizer(true)]),
];
// The last string is the long word, written as its recipe.
const strings = ['', ' ', ' \t \u3000 ', ...corpus.slice(0, EDGE_LINES), longWordText];
const components = {
  strings: strings.slice(0, -1),
  long_word: LONG_WORD,
  normalizers: normalizers.map((n) => ({
    config: componentJson((t) => t.setNormalizer(n)).normalizer,
    out: strings.map((x) => n.normalizeString(x)),
  })),
  pre_tokenizers: preTokenizers.map((p) => ({
    config: componentJson((t) => t.setPreTokenizer(p)).pre_tokenizer,
    out: strings.map((x) => p.preTokenizeString(x).map(([piece]) => piece)),
  })),
};
// Results of more than 1000 characters are stored as their FNV-1a 64-bit
// hash (over the UTF-8 bytes; for pieces, each followed by a 0 byte) and
// their length (characters, or pieces), which the test computes alike.
function fnv1a(text) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}
for (const n of components.normalizers)
  n.out = n.out.map((x) => (x.length > 1000 ? { length: Array.from(x).length, fnv1a: fnv1a(x) } : x));
for (const p of components.pre_tokenizers) {
  p.out = p.out.map((pieces) => (pieces.join('').length > 1000
    ? { length: pieces.length, fnv1a: fnv1a(pieces.map((x) => x + '\0').join('')) } : pieces));
}
const componentsFile = path.join(OUT, 'components.json');
fs.writeFileSync(componentsFile, JSON.stringify(components) + '\n');
total += fs.statSync(componentsFile).size;
console.log(`components: ${normalizers.length} normalizers, ${preTokenizers.length} pre-tokenizers, ` +
  `${fs.statSync(componentsFile).size} bytes`);
console.log(`total ${total} bytes`);
