import { PreconditionFailedException } from '@nestjs/common';
import { StaleVersionError } from '@runbooks/store';
import type { Response } from 'express';
import { RequestValidationError } from '../http/errors';

/**
 * Optimistic concurrency for the inventory and the calendar: GET answers the version as an ETag
 * (`"7"`); a write carrying `If-Match: "7"` is applied only if the document is still at version 7,
 * else 412 with the current ETag. A write without If-Match (or with `*`) is applied
 * unconditionally, so scripts and the README's walk-throughs keep working; clients that edit
 * what they read should send it.
 */
export function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(ifMatch);
  if (!match) {
    throw new RequestValidationError('headers', [{ path: ['If-Match'], message: 'must be an ETag this API answered (e.g. "7"), or *' }]);
  }
  return Number(match[1]);
}

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** Sets the ETag header of a response to the document's version. */
export function sendVersion(response: Response, version: number): void {
  response.setHeader('ETag', etagOf(version));
}

/** Runs a conditional write; a stale If-Match becomes 412 naming the current ETag. */
export async function preconditioned<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof StaleVersionError)) throw error;
    throw new PreconditionFailedException(
      `the ${what} changed since you read it (If-Match "${error.expected}", current ETag "${error.current}"): read it again and retry`,
    );
  }
}
