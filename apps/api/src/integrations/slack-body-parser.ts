import { urlencoded, type NextFunction, type Request, type Response } from 'express';

/** The request body exactly as received: Slack signs the bytes, not the parsed form. */
export type RequestWithRawBody = Request & { rawBody?: Buffer };

const parseForm = urlencoded({
  extended: false,
  limit: '1mb',
  verify: (req, _res, buffer) => {
    (req as RequestWithRawBody).rawBody = Buffer.from(buffer);
  },
});

/**
 * Installed on /v1/integrations/slack before Nest's own parsers (which then skip the parsed body):
 * parses Slack's form-encoded `payload` and keeps the raw bytes for the signature check.
 */
export function slackFormParser(req: Request, res: Response, next: NextFunction): void {
  parseForm(req, res, next);
}
