import { freeText, singleLine, taskRecordSchema } from '@runbooks/contracts';
import { z } from 'zod';
import { errorBodySchema } from '../http/errors';
import { defineRoute } from '../http/route';
import { principalIdSchema, runIdSchema } from '../runs/runs.routes';

export const taskIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be a task id, e.g. swap-disk');

const flag = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

export const listTasksQuerySchema = z
  .object({
    mine: flag.meta({ description: 'Only tasks claimed by (or reassigned to) the caller' }),
    myRoles: flag.meta({ description: 'Only tasks the caller may claim: they hold one of the roles the task is with (admin holds all)' }),
    state: z.enum(['open', 'unclaimed', 'claimed']).default('open').meta({
      description: 'open: every task not done yet (default); unclaimed: nobody works on it; claimed: somebody does',
    }),
    overdue: flag.meta({ description: 'Only tasks past an SLA deadline (true), or within it (false)' }),
  })
  .strict();
export type ListTasksQuery = z.output<typeof listTasksQuerySchema>;

export const openTaskSchema = taskRecordSchema
  .pick({
    title: true,
    instructions: true,
    state: true,
    assignedRole: true,
    eligibleRoles: true,
    claimedBy: true,
    openedAt: true,
    deadline: true,
    overdue: true,
    escalations: true,
  })
  .extend({
    runId: z.string(),
    runbook: z.string(),
    taskId: z.string(),
    requestedBy: z.object({ id: z.string(), displayName: z.string() }),
    evidenceForm: z.record(z.string(), z.unknown()).meta({ description: 'What completing the task must give, as JSON Schema' }),
  });
export type OpenTask = z.infer<typeof openTaskSchema>;

const taskParamsSchema = z.object({ id: runIdSchema, taskId: taskIdSchema });
const comment = freeText(2000).optional();

export const claimTaskBodySchema = z.object({}).strict();
export const releaseTaskBodySchema = z.object({ comment }).strict();
export const reassignTaskBodySchema = z
  .object({
    to: principalIdSchema.meta({ description: 'The principal id of the person who works on the task from now on' }),
    toDisplayName: singleLine(200).min(1).optional(),
    comment,
  })
  .strict();
export const completeTaskBodySchema = z
  .object({
    evidence: z.record(singleLine(100), z.unknown()).meta({ description: "Fields of the task's evidence form (GET /v1/tasks shows it)" }),
    comment,
  })
  .strict();

const error = (description: string) => ({ description, schema: errorBodySchema });
const workerNotAnswering = error('The worker (or Temporal) is not answering; try again later');

function taskAction<B extends z.ZodType>(
  operationId: string,
  action: 'claim' | 'release' | 'reassign' | 'complete',
  summary: string,
  description: string,
  body: B,
  conflict: string,
) {
  return defineRoute({
    operationId,
    method: 'post',
    path: `/v1/runs/:id/tasks/:taskId/${action}`,
    summary,
    description,
    tag: 'tasks',
    access: 'authenticated',
    params: taskParamsSchema,
    body,
    status: 200,
    responses: {
      200: { description: 'The task after the action', schema: taskRecordSchema },
      400: error(action === 'complete' ? 'The evidence does not fit the form; issues name each field' : 'The body is invalid'),
      403: error("The caller holds none of the task's roles (or, to release, did not claim it)"),
      404: error('No such run or task'),
      409: error(conflict),
      503: workerNotAnswering,
    },
  });
}

export const taskRoutes = {
  list: defineRoute({
    operationId: 'listTasks',
    method: 'get',
    path: '/v1/tasks',
    summary: 'List open human tasks',
    description:
      'Tasks of running runs that are not done yet, with their instructions and evidence form. Filters: mine, myRoles, ' +
      'state, overdue. A task escalates to the next support tier (tier1 → tier2 → tier3) each time its SLA passes.',
    tag: 'tasks',
    access: 'authenticated',
    query: listTasksQuerySchema,
    status: 200,
    responses: {
      200: { description: 'The matching tasks', schema: z.object({ tasks: z.array(openTaskSchema) }) },
      400: error('A filter is invalid'),
      503: workerNotAnswering,
    },
  }),
  claim: taskAction(
    'claimTask',
    'claim',
    'Claim a task',
    'The caller takes the task on; they must hold one of the roles it is with.',
    claimTaskBodySchema,
    'The task is already claimed, done, or not open yet',
  ),
  release: taskAction(
    'releaseTask',
    'release',
    'Release a claimed task',
    'The claimer (or an admin) gives the task back, so another person of its roles can claim it.',
    releaseTaskBodySchema,
    'The task is not claimed, or is done',
  ),
  reassign: taskAction(
    'reassignTask',
    'reassign',
    'Reassign a task to a person',
    'Someone holding one of the task roles hands it to another person, who then holds the claim.',
    reassignTaskBodySchema,
    'The task is done, or not open yet',
  ),
  complete: taskAction(
    'completeTask',
    'complete',
    'Complete a task with its evidence',
    'The claimer completes the task; the run checks the evidence against the form before anything enters history.',
    completeTaskBodySchema,
    'The caller has not claimed the task, or it is done',
  ),
};
