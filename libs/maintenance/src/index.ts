export * from './evaluate-window';
export * from './failures';
export * from './parse-calendar';
export { WindowOccurrences, cronProblem, type OpenInterval } from './window-occurrences';
