import { redeemCredentialLinkSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const redeemedCredentialsSchema = z.strictObject({
  username: z.string(),
  password: z.string().describe('The initial password; the directory asks for a new one at the first login'),
  otpauthUri: z.string().optional().describe('The TOTP enrolment (otpauth:// URI) for an authenticator app'),
});

export const credentialLinkRoutes = {
  redeem: defineRoute({
    operationId: 'redeemCredentialLink',
    method: 'post',
    path: '/v1/credential-links/redeem',
    summary: "Open a one-time credential link: a new account's initial password and TOTP enrolment",
    description:
      'The token is the part after `#` in the link an account runbook mailed. It works once, until its expiry: the first call ' +
      'gets the credentials, every later one a 410. No login is needed (the person has none yet); the token is the only key ' +
      'to what the link holds, which the store keeps sealed with a key derived from it.',
    tag: 'accounts',
    access: 'public',
    body: redeemCredentialLinkSchema,
    status: 200,
    responses: {
      200: { description: 'The credentials, this once', schema: redeemedCredentialsSchema },
      400: { description: 'The token is malformed', schema: errorBodySchema },
      404: { description: 'No link has this token', schema: errorBodySchema },
      410: { description: 'The link was used already, expired, or was voided by an undone run', schema: errorBodySchema },
    },
  }),
};
