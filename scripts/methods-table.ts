// Rewrites one section's table in docs/methods.md from docs/data/methods-<section>.json: the rows a
// measuring script wrote (one object per method: the same keys in every row, numbers or text).
// Each section lives between `<!-- table:<section> -->` and `<!-- /table:<section> -->`, so
// scripts for different method families never touch each other's tables.
// Usage: tsx scripts/methods-table.ts <section> [--columns key:Header,key:Header…]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [section, ...rest] = process.argv.slice(2);
if (!section) {
  console.error('usage: tsx scripts/methods-table.ts <section> [--columns key:Header,…]');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const rows = JSON.parse(readFileSync(`${root}docs/data/methods-${section}.json`, 'utf8')) as Record<string, unknown>[];
const colArg = rest[rest.indexOf('--columns') + 1];
const columns: [string, string][] = rest.includes('--columns')
  ? colArg.split(',').map((c) => c.split(':') as [string, string])
  : Object.keys(rows[0] ?? {}).map((k) => [k, k]);

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3));
  return String(v).replace(/\|/g, '\\|');
};
const table = [
  `| ${columns.map(([, h]) => h).join(' | ')} |`,
  `| ${columns.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${columns.map(([k]) => cell(r[k])).join(' | ')} |`),
].join('\n');

const file = `${root}docs/methods.md`;
const doc = readFileSync(file, 'utf8');
const open = `<!-- table:${section} -->`;
const close = `<!-- /table:${section} -->`;
const a = doc.indexOf(open);
const b = doc.indexOf(close);
if (a < 0 || b < a) {
  console.error(`docs/methods.md has no ${open} … ${close} section`);
  process.exit(2);
}
writeFileSync(file, `${doc.slice(0, a + open.length)}\n${table}\n${doc.slice(b)}`);
console.log(`docs/methods.md: ${section} table, ${rows.length} rows`);
