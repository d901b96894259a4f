// Reading typed values out of a Hugging Face config.json, with errors that name the key.
import { PeftError } from '../../errors.js';

export class ConfigReader {
  constructor(readonly raw: Record<string, unknown>, readonly where: string) {}

  num(key: string, fallback?: number): number {
    const v = this.raw[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    throw new PeftError('BACKBONE', `config key "${key}" must be a number (got ${JSON.stringify(v)})`, {
      where: this.where,
      hint: 'the config.json does not describe a model of this family',
    });
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) throw new PeftError('BACKBONE', `config key "${key}" must be an integer (got ${v})`, { where: this.where });
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.raw[key];
    if (typeof v === 'string') return v;
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    throw new PeftError('BACKBONE', `config key "${key}" must be a string (got ${JSON.stringify(v)})`, { where: this.where });
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (typeof v === 'boolean') return v;
    if (v === undefined || v === null) return fallback;
    throw new PeftError('BACKBONE', `config key "${key}" must be true or false (got ${JSON.stringify(v)})`, { where: this.where });
  }

  optNum(key: string): number | null {
    const v = this.raw[key];
    return typeof v === 'number' ? v : null;
  }
}
