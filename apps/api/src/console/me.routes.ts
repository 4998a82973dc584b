import { principalSchema } from '@runbooks/contracts';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';

export const meRoutes = {
  get: defineRoute({
    operationId: 'getMe',
    method: 'get',
    path: '/v1/me',
    summary: 'Who am I',
    description: 'The principal the Bearer token belongs to: the console signs in with it and shows only the actions the roles allow.',
    tag: 'auth',
    access: 'authenticated',
    status: 200,
    responses: {
      200: { description: 'The caller', schema: principalSchema },
      401: { description: 'No token, or an unknown one', schema: errorBodySchema },
    },
  }),
};
