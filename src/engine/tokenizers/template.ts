// Where special tokens go around one sequence (A) or a pair (A, B), and which token type id each
// position gets: read from tokenizer.json's post_processor, or built from add_bos/add_eos.
// We apply it ourselves (rather than letting the tokenizer library do it) so that truncation
// can keep room for the special tokens, as transformers does.

export interface TemplatePiece {
  /** Special token ids inserted here, or undefined for a sequence slot. */
  special?: number[];
  seq?: 'A' | 'B';
  typeId: number;
}

export interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

type Lookup = (token: string) => number | null;

const A = (typeId = 0): TemplatePiece => ({ seq: 'A', typeId });
const B = (typeId = 1): TemplatePiece => ({ seq: 'B', typeId });
const S = (id: number, typeId = 0): TemplatePiece => ({ special: [id], typeId });

/** No special tokens: A alone, or A then B (B with type id 1). */
export const PLAIN_TEMPLATE: Template = { single: [A()], pair: [A(), B()] };

/** The template a tokenizer.json post_processor describes (null or unknown → plain). */
export function templateFromPostProcessor(pp: unknown, lookup: Lookup): Template {
  if (!isObject(pp)) return PLAIN_TEMPLATE;
  switch (pp.type) {
    case 'TemplateProcessing': {
      const specials = isObject(pp.special_tokens) ? pp.special_tokens : {};
      const piece = (item: unknown): TemplatePiece | null => {
        if (!isObject(item)) return null;
        if (isObject(item.SpecialToken)) {
          const name = String(item.SpecialToken.id);
          const entry = specials[name];
          const ids = isObject(entry) && Array.isArray(entry.ids) ? entry.ids.map(Number) : [lookup(name)].filter((x): x is number => x !== null);
          return { special: ids, typeId: Number(item.SpecialToken.type_id ?? 0) };
        }
        if (isObject(item.Sequence)) {
          return { seq: item.Sequence.id === 'B' ? 'B' : 'A', typeId: Number(item.Sequence.type_id ?? 0) };
        }
        return null;
      };
      const list = (x: unknown) => (Array.isArray(x) ? x.map(piece).filter((p): p is TemplatePiece => p !== null) : []);
      return { single: list(pp.single), pair: list(pp.pair) };
    }
    case 'BertProcessing': {
      const cls = tupleId(pp.cls, lookup);
      const sep = tupleId(pp.sep, lookup);
      if (cls === null || sep === null) return PLAIN_TEMPLATE;
      return { single: [S(cls), A(), S(sep)], pair: [S(cls), A(), S(sep), B(), S(sep, 1)] };
    }
    case 'RobertaProcessing': {
      const cls = tupleId(pp.cls, lookup);
      const sep = tupleId(pp.sep, lookup);
      if (cls === null || sep === null) return PLAIN_TEMPLATE;
      return { single: [S(cls), A(), S(sep)], pair: [S(cls), A(), S(sep), S(sep), B(0), S(sep)] };
    }
    case 'Sequence': {
      // ByteLevel only fixes offsets; the last processor that places tokens decides.
      const inner = Array.isArray(pp.processors) ? pp.processors : [];
      let t = PLAIN_TEMPLATE;
      for (const p of inner) if (isObject(p) && p.type !== 'ByteLevel') t = templateFromPostProcessor(p, lookup);
      return t;
    }
    default:
      return PLAIN_TEMPLATE;
  }
}

/** transformers' LlamaTokenizerFast template: [bos] A [eos], pair [bos] A [eos] [bos] B [eos]. */
export function bosEosTemplate(bosId: number | null, eosId: number | null, addBos: boolean, addEos: boolean): Template {
  const around = (seq: TemplatePiece, typeId: number): TemplatePiece[] => [
    ...(addBos && bosId !== null ? [S(bosId, typeId)] : []),
    seq,
    ...(addEos && eosId !== null ? [S(eosId, typeId)] : []),
  ];
  return { single: around(A(), 0), pair: [...around(A(), 0), ...around(B(), 1)] };
}

/** Places the sequences (and, if asked, the special tokens) as the template says. */
export function applyTemplate(
  t: Template,
  a: readonly number[],
  b: readonly number[] | null,
  addSpecialTokens: boolean,
): { ids: number[]; typeIds: number[] } {
  const ids: number[] = [];
  const typeIds: number[] = [];
  for (const p of b === null ? t.single : t.pair) {
    const part = p.special ? (addSpecialTokens ? p.special : []) : p.seq === 'B' ? (b ?? []) : a;
    for (const id of part) {
      ids.push(id);
      typeIds.push(p.typeId);
    }
  }
  return { ids, typeIds };
}

/** How many special tokens the template adds (what truncation must leave room for). */
export function specialCount(t: Template, pair: boolean): number {
  return (pair ? t.pair : t.single).reduce((n, p) => n + (p.special?.length ?? 0), 0);
}

function tupleId(x: unknown, lookup: Lookup): number | null {
  if (!Array.isArray(x)) return null;
  if (typeof x[1] === 'number') return x[1];
  return typeof x[0] === 'string' ? lookup(x[0]) : null;
}

function isObject(x: unknown): x is Record<string, any> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
