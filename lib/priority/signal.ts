/**
 * Priority signals as the schedulers receive them: RFC 7540 dependency/weight fields or RFC 9218
 * urgency/incremental parameters, the parser of the RFC 9218 Priority Field Value (the `priority`
 * header and PRIORITY_UPDATE payloads), and the documented bridge between the two schemes.
 */
import { parseDictionary } from 'structured-headers';

/** RFC 7540 §5.3 fields (weight 1..256). */
export interface Rfc7540Signal {
  readonly scheme: 'rfc7540';
  readonly dependsOn: number;
  readonly weight: number;
  readonly exclusive: boolean;
}

/** RFC 9218 §4 parameters: urgency 0 (most urgent) .. 7, incremental delivery. */
export interface Rfc9218Signal {
  readonly scheme: 'rfc9218';
  readonly urgency: number;
  readonly incremental: boolean;
}

export type PrioritySignal = Rfc7540Signal | Rfc9218Signal;

/** RFC 9218 §4.1: urgency 3 when absent. */
export const DEFAULT_URGENCY = 3;

/**
 * Parses a Priority Field Value (RFC 9218 §4, a Structured Fields dictionary). Parameters that
 * are unknown, out of range or of the wrong type are ignored (§4: MUST), and a value that does
 * not parse gives the defaults (§5: SHOULD) — urgency 3, not incremental.
 */
export function parsePriorityField(value: string): Rfc9218Signal {
  let urgency = DEFAULT_URGENCY;
  let incremental = false;
  try {
    const dict = parseDictionary(value);
    const u = dict.get('u')?.[0];
    if (typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 7) urgency = u;
    const i = dict.get('i')?.[0];
    if (typeof i === 'boolean') incremental = i;
  } catch {
    // unparsable: defaults
  }
  return { scheme: 'rfc9218', urgency, incremental };
}

/** Serializes RFC 9218 parameters, omitting defaults (`''` for u=3 non-incremental). */
export function formatPriorityField(s: { urgency: number; incremental: boolean }): string {
  const parts: string[] = [];
  if (s.urgency !== DEFAULT_URGENCY) parts.push(`u=${s.urgency}`);
  if (s.incremental) parts.push('i');
  return parts.join(', ');
}

/**
 * Urgency → RFC 7540 weight, the bridge Chromium and h2o use: ⌊255.9/7·(7−u)⌋ + 1, so
 * u = 0..7 maps to 256, 220, 183, 147, 110, 74, 37, 1.
 */
export function urgencyToWeight(urgency: number): number {
  return Math.floor((255.9 / 7) * (7 - urgency)) + 1;
}

/** RFC 7540 weight → urgency: the urgency whose bridge weight is nearest (the inverse of {@link urgencyToWeight}). */
export function weightToUrgency(weight: number): number {
  let best = 0;
  for (let u = 1; u <= 7; u++) {
    if (Math.abs(urgencyToWeight(u) - weight) < Math.abs(urgencyToWeight(best) - weight)) best = u;
  }
  return best;
}
