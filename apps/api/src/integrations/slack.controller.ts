import { Controller, Req } from '@nestjs/common';
import { ApiRoute } from '../http/route';
import type { RequestWithRawBody } from './slack-body-parser';
import { slackRoutes, type SlackInteractionResult } from './slack.routes';
import { SlackInteractionsService } from './slack.service';

@Controller()
export class SlackController {
  constructor(private readonly slack: SlackInteractionsService) {}

  /** Public: Slack cannot send a bearer token; the request signature is the authentication. */
  @ApiRoute(slackRoutes.interactions)
  interactions(@Req() request: RequestWithRawBody): Promise<SlackInteractionResult> {
    return this.slack.handle({
      rawBody: request.rawBody,
      timestamp: header(request, 'x-slack-request-timestamp'),
      signature: header(request, 'x-slack-signature'),
      form: request.body as unknown,
    });
  }
}

function header(request: RequestWithRawBody, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
