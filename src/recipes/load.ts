// Reading one recipe file: bytes → text → YAML 1.2 document → SourceNode mapping with the
// line:col of every node. Every failure is one PeftError line: `file:line:col  what` + hint.
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { DocumentOptions, ParseOptions, SchemaOptions, YAMLError } from 'yaml';
import { PeftError } from '../errors.js';
import { displayPath, formatOrigin } from './source.js';
import type { MapNode, Origin, SourceNode } from './source.js';
import { TAG_HINT, documentTree, showTag } from './yaml-tree.js';

/** Largest recipe file read (a recipe is a few kilobytes). */
export const MAX_RECIPE_BYTES = 1 << 20;

const YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.2',
  schema: 'core',
  merge: false, // `<<` is an ordinary key in YAML 1.2
  resolveKnownTags: false, // !!binary, !!set, … stay unresolved and are rejected
  uniqueKeys: false, // duplicates are reported by the tree builder, naming the key
  prettyErrors: false,
  strict: true,
};

const SYNTAX_HINTS: Partial<Record<YAMLError['code'], string>> = {
  BAD_INDENT: 'indent with spaces, every key of one mapping at the same column',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MISSING_CHAR: 'close the quote or bracket opened before this place',
  MULTIPLE_DOCS: 'a recipe is one YAML document: remove the `---` separator',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": "',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; quote values that contain ": "',
  UNEXPECTED_TOKEN: 'check the YAML syntax at this place',
  BAD_DQ_ESCAPE: 'in double quotes write a backslash as \\\\ (or use single quotes)',
};

/** `file:1:1`-style origin for a character offset of `text`. */
function positioner(file: string, lc: LineCounter): (offset: number | undefined) => Origin {
  return (offset) => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { file, line, col };
  };
}

/** yaml's message without its " at line 2, column 1:" tail, starting lower-case. */
function tidyMessage(message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '').trim();
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function readRecipeBytes(file: string): Buffer {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new PeftError('FILE', 'is a directory, not a recipe file', { where: displayPath(file), hint: 'name a .yaml file' });
    // a FIFO or a device would block or never end: a recipe is a regular file
    if (!st.isFile()) throw new PeftError('FILE', 'is not a regular file (a pipe or a device?)', { where: displayPath(file), hint: 'a recipe is a YAML file on disk' });
    size = st.size;
  } catch (e) {
    if (e instanceof PeftError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`;
    throw new PeftError('FILE', what, { where: displayPath(file), hint: 'check the path (relative to the working directory)' });
  }
  if (size > MAX_RECIPE_BYTES) {
    throw new PeftError('YAML', `file is too large for a recipe (${size} bytes; at most ${MAX_RECIPE_BYTES})`, { where: displayPath(file), hint: 'is this the recipe? a recipe is a few kilobytes of YAML' });
  }
  try {
    return readFileSync(file);
  } catch (e) {
    throw new PeftError('FILE', `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { where: displayPath(file), hint: 'check the file permissions' });
  }
}

/** The text of a recipe file; binary content (NUL bytes, invalid UTF-8) is an error. */
export function readRecipeText(file: string): string {
  const bytes = readRecipeBytes(file);
  const notText = (offset: number) =>
    new PeftError('YAML', `not a text file (binary data at byte ${offset})`, {
      where: `${displayPath(file)}:1:1`,
      hint: 'a recipe is a YAML text file (UTF-8)',
    });
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw notText(nul);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw notText(Math.max(0, firstBadUtf8Byte(bytes)));
  }
}

/** Offset of the first byte that starts no well-formed UTF-8 sequence (approximate: for messages). */
function firstBadUtf8Byte(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** Parses YAML text into a tree; null for an empty document (only comments or blanks). */
export function parseYamlText(text: string, file: string): SourceNode | null {
  const lc = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lc });
  const at = positioner(file, lc);
  const err = doc.errors[0];
  if (err) {
    throw new PeftError('YAML', tidyMessage(err.message), {
      where: formatOrigin(at(err.pos[0])),
      hint: /end with an? [\]}]/.test(err.message)
        ? 'is a bracket opened above this place left unclosed?'
        : (SYNTAX_HINTS[err.code] ?? 'check the YAML syntax at this place'),
    });
  }
  const tagWarning = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tagWarning) {
    const tag = /Unresolved tag: (\S+)/.exec(tagWarning.message)?.[1] ?? 'tag';
    throw new PeftError('YAML', `unknown tag ${showTag(tag)}`, { where: formatOrigin(at(tagWarning.pos[0])), hint: TAG_HINT });
  }
  return documentTree(doc, at);
}

/** Parses recipe text: it must be one YAML mapping. */
export function parseRecipeText(text: string, file: string): MapNode {
  const root = parseYamlText(text, file);
  if (root === null) {
    throw new PeftError('YAML', 'empty recipe', {
      where: `${displayPath(file)}:1:1`,
      hint: 'a recipe is a YAML mapping (backbone:, method:, …); see docs/recipes.md',
    });
  }
  if (root.kind !== 'map') {
    const what = root.kind === 'seq' ? 'a list' : `a single value (${JSON.stringify(root.value)})`;
    throw new PeftError('YAML', `a recipe must be a mapping of keys, not ${what}`, {
      where: formatOrigin(root.at),
      hint: 'write `key: value` lines at the top level (backbone:, method:, …)',
    });
  }
  return root;
}

/** Reads and parses one recipe file (not following `extends`). */
export function loadRecipeFile(file: string): MapNode {
  return parseRecipeText(readRecipeText(file), file);
}
