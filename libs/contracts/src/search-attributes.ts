import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes, registered on the server at start (see scripts/temporal.sh). */
export const RunbookNameAttr = defineSearchAttributeKey('RunbookName', SearchAttributeType.KEYWORD);
export const RunStatusAttr = defineSearchAttributeKey('RunStatus', SearchAttributeType.KEYWORD);
export const RequestedByAttr = defineSearchAttributeKey('RequestedBy', SearchAttributeType.KEYWORD);
export const AwaitingApprovalAttr = defineSearchAttributeKey('AwaitingApproval', SearchAttributeType.BOOL);
/** Set (true or false) only by runs with human tasks: true while a task is open or claimed. */
export const AwaitingTaskAttr = defineSearchAttributeKey('AwaitingTask', SearchAttributeType.BOOL);
/** Fleet runs: how many hosts the run has changed so far. */
export const HostsTouchedAttr = defineSearchAttributeKey('HostsTouched', SearchAttributeType.INT);
/** Runs started by a schedule: the schedule's id (also set on the schedule itself, so schedules can be listed by it). */
export const ScheduleIdAttr = defineSearchAttributeKey('ScheduleId', SearchAttributeType.KEYWORD);

/** Set by Temporal on runs a schedule starts: the fire time the run is for. */
export const TemporalScheduledStartTimeAttr = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** `Name=Type` pairs for `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS: readonly string[] = [
  'RunbookName=Keyword',
  'RunStatus=Keyword',
  'RequestedBy=Keyword',
  'AwaitingApproval=Bool',
  'AwaitingTask=Bool',
  'HostsTouched=Int',
  'ScheduleId=Keyword',
];
