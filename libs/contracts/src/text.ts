import { z } from 'zod';

/**
 * Strings that come from outside are bounded and hold no control characters: a NUL or an escape
 * sequence must never reach a file name, a shell argument, a log line or Temporal's SQL.
 * Free text (comments, reasons) may hold tabs and line breaks; everything else is one line.
 */
// Matching control characters is the point of these patterns.
/* eslint-disable no-control-regex */
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;
export const NO_CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/;
/** An absolute path (one line, so one pattern says both). */
export const ABSOLUTE_PATH = /^\/[^\u0000-\u001f\u007f-\u009f]*$/;
/* eslint-enable no-control-regex */

/** One line of text, at most `max` characters. */
export function singleLine(max: number): z.ZodString {
  return z.string().max(max).regex(NO_CONTROL_CHARACTERS, 'must not contain control characters');
}

/** Free text, at most `max` characters; tabs and line breaks allowed. */
export function freeText(max: number): z.ZodString {
  return z
    .string()
    .max(max)
    .regex(NO_CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS, 'must not contain control characters other than line breaks and tabs');
}

/** An instant as ISO 8601 with a UTC offset, e.g. 2026-11-10T00:00:00Z. */
export function isoInstant(): z.ZodISODateTime {
  return z.iso.datetime({ offset: true }).max(40);
}
