// GPT-2's byte-level BPE tokenizer and the tokenizer files of a model directory.
export { Tokenizer, type DecodeOptions } from './tokenizer.js';
export { writeGpt2TokenizerFiles, gpt2VocabPaths, type Gpt2VocabPaths, END_OF_TEXT } from './files.js';
export { TokenizerFileError } from './load.js';
export { GPT2_SPLIT_PATTERN, GPT2_SPLIT_PATTERN_JS, preTokenize } from './pre-tokenize.js';
