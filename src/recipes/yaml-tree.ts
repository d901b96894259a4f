// A parsed YAML document → SourceNode tree, keeping the position of every node and key.
// Safe by construction: only the plain tags of YAML 1.2 (str, int, float, bool, null, map,
// seq) are accepted, keys must be scalars, a key may appear once per mapping, and aliases are
// expanded against a fixed node budget so an "alias bomb" is an error, not a hang.
import { isAlias, isMap, isPair, isScalar, isSeq, visit } from 'yaml';
import type { Alias, Document, Node as YamlNode } from 'yaml';
import { PeftError } from '../errors.js';
import { formatOrigin } from './source.js';
import type { MapEntry, Origin, Scalar, SourceNode } from './source.js';

/** Most nodes that alias expansion may create in one document (a real recipe needs a few dozen). */
export const ALIAS_NODE_BUDGET = 10_000;
/** Most characters of scalars that alias expansion may copy (a recipe file is at most 1 MiB). */
export const ALIAS_TEXT_BUDGET = 1 << 20;
/** Deepest nesting accepted (a recipe is four or five levels deep). */
export const MAX_DEPTH = 64;

const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

interface Ctx {
  doc: Document;
  /** Origin of a source offset. */
  at: (offset: number | undefined) => Origin;
  /** The anchor each alias refers to, computed once in document order. */
  targets: Map<Alias, YamlNode>;
  /** Anchored nodes being expanded right now (a cycle is an error). */
  expanding: YamlNode[];
  /** The outermost alias being expanded (errors point at it). */
  outerAlias: Alias | null;
  aliasNodes: number;
  /** Characters of scalars copied by alias expansion so far. */
  aliasText: number;
}

function yamlError(message: string, at: Origin, hint?: string): PeftError {
  return new PeftError('YAML', message, { where: formatOrigin(at), hint });
}

export const TAG_HINT = 'recipes are plain YAML: remove the tag (only !!str, !!int, !!float, !!bool, !!null, !!map, !!seq)';

/** `tag:yaml.org,2002:binary` → `!!binary`. */
export function showTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
}

function checkTag(node: YamlNode, ctx: Ctx): void {
  const tag = (node as { tag?: string }).tag;
  if (tag !== undefined && !PLAIN_TAGS.has(tag)) {
    throw yamlError(`unknown tag ${showTag(tag)}`, ctx.at(node.range?.[0]), TAG_HINT);
  }
}

/** Maps every alias to the anchored node it names: the last one defined before it. */
function aliasTargets(doc: Document): Map<Alias, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

function countNode(ctx: Ctx, node: YamlNode): void {
  if (ctx.outerAlias === null) return;
  ctx.aliasNodes++;
  if (ctx.aliasNodes > ALIAS_NODE_BUDGET) {
    throw yamlError(`aliases expand to more than ${ALIAS_NODE_BUDGET} values (an alias bomb?)`,
      ctx.at(ctx.outerAlias.range?.[0]), 'write the values out, or alias less');
  }
  // few nodes can still be gigabytes of text: a long string aliased many times
  if (isScalar(node)) ctx.aliasText += typeof node.value === 'string' ? node.value.length : String(node.value).length;
  if (ctx.aliasText > ALIAS_TEXT_BUDGET) {
    throw yamlError(`aliases expand to more than ${ALIAS_TEXT_BUDGET} characters of text (an alias bomb?)`,
      ctx.at(ctx.outerAlias.range?.[0]), 'write the values out, or alias less');
  }
}

function build(node: YamlNode | null | undefined, ctx: Ctx, fallback: Origin, depth: number): SourceNode {
  if (node === null || node === undefined) return { kind: 'scalar', at: fallback, value: null };
  if (isAlias(node)) return buildAlias(node, ctx, depth);
  checkTag(node, ctx);
  countNode(ctx, node);
  const at = ctx.at(node.range?.[0]);
  if (depth > MAX_DEPTH) throw yamlError(`nested more than ${MAX_DEPTH} levels deep`, at, 'a recipe is a few levels deep');
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      return { kind: 'scalar', at, value: v as Scalar };
    }
    throw yamlError(`unsupported value ${String(v)}`, at, 'recipes hold strings, numbers, booleans and null');
  }
  if (isSeq(node)) return { kind: 'seq', at, items: node.items.map((item) => build(item as YamlNode, ctx, at, depth + 1)) };
  if (isMap(node)) {
    const entries = new Map<string, MapEntry>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const keyAt = keyNode ? ctx.at(keyNode.range?.[0]) : at;
      if (!keyNode || !isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        throw yamlError('mapping keys must be plain strings', keyAt, 'write `key: value`');
      }
      checkTag(keyNode, ctx);
      const key = String(keyNode.value);
      const first = entries.get(key);
      if (first) {
        const line = 'line' in first.keyAt ? ` (first at line ${first.keyAt.line})` : '';
        throw yamlError(`duplicate key "${key}"${line}`, keyAt, 'a key may appear once per mapping: delete one');
      }
      entries.set(key, { keyAt, node: build(pair.value as YamlNode | null, ctx, keyAt, depth + 1) });
    }
    return { kind: 'map', at, entries };
  }
  throw yamlError('unsupported YAML node', at);
}

function buildAlias(alias: Alias, ctx: Ctx, depth: number): SourceNode {
  const at = ctx.at(alias.range?.[0]);
  const target = ctx.targets.get(alias);
  if (!target) throw yamlError(`unknown alias *${alias.source}`, at, `define the anchor &${alias.source} before using it`);
  if (ctx.expanding.includes(target)) {
    throw yamlError(`alias *${alias.source} refers to a node that contains it`, at, 'an alias cannot include itself');
  }
  const outermost = ctx.outerAlias === null;
  if (outermost) ctx.outerAlias = alias;
  ctx.expanding.push(target);
  try {
    const node = build(target, ctx, at, depth);
    // The value at the alias's own path was supplied here.
    return { ...node, at } as SourceNode;
  } finally {
    ctx.expanding.pop();
    if (outermost) ctx.outerAlias = null;
  }
}

/** The tree of a parsed document's contents (null for an empty document). */
export function documentTree(doc: Document, at: (offset: number | undefined) => Origin): SourceNode | null {
  if (doc.contents === null) return null;
  const ctx: Ctx = { doc, at, targets: aliasTargets(doc), expanding: [], outerAlias: null, aliasNodes: 0, aliasText: 0 };
  return build(doc.contents as YamlNode, ctx, at(0), 0);
}
