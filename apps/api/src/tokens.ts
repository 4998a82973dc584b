/** Injection tokens for values that are not classes. */
export const API_CONFIG = Symbol('API_CONFIG');
export const TEMPORAL_CONNECTION = Symbol('TEMPORAL_CONNECTION');
export const OPENAPI_DOCUMENT = Symbol('OPENAPI_DOCUMENT');
export const PAYLOAD_CODEC = Symbol('PAYLOAD_CODEC');
