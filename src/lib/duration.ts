const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Parses the legacy lifetime forms (`15m`, `1d`, `30d`, `3600`) into seconds; undefined when invalid. */
export function parseDuration(value: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhdw]?)\s*$/i.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = (match[2] || 's').toLowerCase();
  const seconds = amount * UNIT_SECONDS[unit]!;
  return seconds > 0 ? seconds : undefined;
}
