/** A flag's value as a positive number (or integer), the fallback when absent; throws on anything else. */
export function positive(name: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not "${value}"`);
  }
  return number;
}
