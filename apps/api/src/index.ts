export { createApiApp } from './create-app';
export { loadApiConfig, parseApiConfig, type ApiConfig, type ApiConfigInput } from './config';
export { API_ROUTES } from './routes';
export type { RouteDefinition } from './http/route';
