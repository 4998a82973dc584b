export * from './activities';
export * from './calendar-store';
export * from './evaluate-window';
export * from './failures';
export { WindowOccurrences, cronProblem, type OpenInterval } from './window-occurrences';
